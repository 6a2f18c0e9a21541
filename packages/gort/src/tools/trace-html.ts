/**
 * An execution trace (debug/trace.ts, the Chrome Trace Event JSON) as one self-contained HTML
 * page: no network, the CSS, the script and the trace's events inline. Used by the gort-trace
 * command (bin/gort-trace.ts).
 *
 * The page draws one track per thread (main, M1 (P0), …) on a canvas: goroutine slices
 * coloured by function (a legend lists the colours), idle spells in grey, parks as red ticks
 * under a track, steals as blue diamonds above it, and, when the box is ticked, wake and spawn
 * flows as lines. Wheel zooms around the pointer, dragging pans, hovering a slice names it.
 * After drawing, the script writes what it drew into the DOM (#summary's data attributes and
 * one .track element per thread: slices, parks and steals drawn), which the tests read from a
 * headless browser.
 *
 * Only what the page needs is embedded: the X, i, s/f and M events, each cut to its fields.
 */

/** What the page needs from a trace: Chrome Trace Event JSON. */
export interface ChromeTrace {
  traceEvents: Array<{ ph: string; name: string; cat?: string; tid: number; ts?: number; dur?: number; id?: number; args?: Record<string, unknown> }>;
  otherData?: Record<string, unknown>;
}

/** Whether v looks like a Chrome trace (an object with a traceEvents array). */
export function isChromeTrace(v: unknown): v is ChromeTrace {
  return typeof v === 'object' && v !== null && Array.isArray((v as { traceEvents?: unknown }).traceEvents);
}

/** The HTML page for trace `tr`, titled `title`. */
export function traceToHtml(tr: ChromeTrace, title: string): string {
  const threads: Record<string, string> = {};
  const slices: unknown[] = [];
  const marks: unknown[] = [];
  const flows: unknown[] = [];
  for (const e of tr.traceEvents) {
    if (e.ph === 'M' && e.name === 'thread_name') threads[e.tid] = String((e.args as { name?: unknown } | undefined)?.name ?? e.tid);
    else if (e.ph === 'X') slices.push([e.tid, e.ts ?? 0, e.dur ?? 0, e.name, e.cat === 'idle' ? 1 : 0, (e.args as { goid?: number } | undefined)?.goid ?? 0]);
    else if (e.ph === 'i' && (e.name === 'park' || e.name === 'steal')) {
      const a = e.args ?? {};
      marks.push([e.tid, e.ts ?? 0, e.name === 'park' ? 0 : 1, e.name === 'park' ? `park goroutine ${String(a['goid'])}: ${String(a['reason'])}` : `steal of ${String(a['goroutines'])} from P${String(a['fromP'])}`]);
    } else if (e.ph === 's' || e.ph === 'f') flows.push([e.id ?? 0, e.ph === 's' ? 0 : 1, e.tid, e.ts ?? 0, e.name]);
  }
  const data = JSON.stringify({ threads, slices, marks, flows, info: tr.otherData ?? {} }).replace(/</g, '\\u003c');
  const esc = title.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>${esc}</title>
<style>
body{font:13px system-ui,sans-serif;margin:0;background:#fafafa;color:#222}
header{padding:8px 12px;border-bottom:1px solid #ddd;display:flex;gap:16px;align-items:center;flex-wrap:wrap}
h1{font-size:15px;margin:0}
#wrap{position:relative}
canvas{display:block;cursor:grab}
#tip{position:absolute;pointer-events:none;background:#fff;border:1px solid #999;padding:3px 6px;font-size:12px;display:none;white-space:nowrap}
#legend{padding:6px 12px;display:flex;flex-wrap:wrap;gap:10px}
#legend span i{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:-2px}
#tracks{display:none}
</style></head><body>
<header><h1>${esc}</h1><span id="range"></span><label><input type="checkbox" id="flows"> flows</label><button id="reset">reset zoom</button>
<span>wheel: zoom, drag: pan</span></header>
<div id="wrap"><canvas id="c"></canvas><div id="tip"></div></div>
<div id="legend"></div>
<div id="summary"></div><div id="tracks"></div>
<script>
const D=${data};
const LABEL=110,ROW=34,TOP=8;
const tids=Object.keys(D.threads).map(Number).sort((a,b)=>a-b);
for(const s of D.slices)if(!tids.includes(s[0]))tids.push(s[0]);
const row=new Map(tids.map((t,i)=>[t,i]));
let t0=Infinity,t1=-Infinity;
for(const s of D.slices){t0=Math.min(t0,s[1]);t1=Math.max(t1,s[1]+s[2]);}
for(const m of D.marks){t0=Math.min(t0,m[1]);t1=Math.max(t1,m[1]);}
if(!isFinite(t0)){t0=0;t1=1;}
if(t1<=t0)t1=t0+1;
let v0=t0,v1=t1;
const colors=new Map();
function color(name){let c=colors.get(name);if(c)return c;let h=0;for(let i=0;i<name.length;i++)h=(h*31+name.charCodeAt(i))|0;c='hsl('+(((h%360)+360)%360)+',65%,55%)';colors.set(name,c);return c;}
const cv=document.getElementById('c'),ctx=cv.getContext('2d');
const W=()=>Math.max(400,window.innerWidth||1200);
cv.width=W();cv.height=TOP+tids.length*ROW+10;
const X=(t)=>LABEL+(t-v0)/(v1-v0)*(cv.width-LABEL-10);
const drawn=new Map(tids.map(t=>[t,{slices:0,parks:0,steals:0}]));
function draw(){
  for(const d of drawn.values()){d.slices=0;d.parks=0;d.steals=0;}
  ctx.clearRect(0,0,cv.width,cv.height);
  ctx.font='12px system-ui,sans-serif';
  tids.forEach((t,i)=>{const y=TOP+i*ROW;ctx.fillStyle=i%2?'#f0f0f0':'#fff';ctx.fillRect(0,y,cv.width,ROW);ctx.fillStyle='#222';ctx.fillText(D.threads[t]||('thread '+t),6,y+ROW/2+4);});
  for(const s of D.slices){
    const a=X(s[1]),b=X(s[1]+s[2]);if(b<LABEL||a>cv.width)continue;
    const y=TOP+row.get(s[0])*ROW;
    ctx.fillStyle=s[4]?'#c8c8c8':color(s[3]);
    const x=Math.max(a,LABEL);ctx.fillRect(x,y+8,Math.max(1,b-x),ROW-16);
    if(!s[4])drawn.get(s[0]).slices++;
  }
  for(const m of D.marks){
    const x=X(m[1]);if(x<LABEL||x>cv.width)continue;
    const y=TOP+row.get(m[0])*ROW;
    if(m[2]===0){ctx.fillStyle='#d22';ctx.fillRect(x-0.5,y+ROW-8,1.5,7);drawn.get(m[0]).parks++;}
    else{ctx.fillStyle='#15c';ctx.beginPath();ctx.moveTo(x,y);ctx.lineTo(x+4,y+4);ctx.lineTo(x,y+8);ctx.lineTo(x-4,y+4);ctx.fill();drawn.get(m[0]).steals++;}
  }
  let nflows=0;
  if(document.getElementById('flows').checked){
    const start=new Map();for(const f of D.flows)if(f[1]===0)start.set(f[0],f);
    ctx.strokeStyle='rgba(0,0,0,.35)';ctx.beginPath();
    for(const f of D.flows){if(f[1]!==1)continue;const s=start.get(f[0]);if(!s)continue;
      ctx.moveTo(X(s[3]),TOP+row.get(s[2])*ROW+ROW/2);ctx.lineTo(X(f[3]),TOP+row.get(f[2])*ROW+ROW/2);nflows++;}
    ctx.stroke();
  }
  document.getElementById('range').textContent=((v1-v0)/1000).toFixed(3)+' ms shown of '+((t1-t0)/1000).toFixed(3)+' ms';
  const sum=document.getElementById('summary');
  let total=0,parks=0,steals=0;for(const d of drawn.values()){total+=d.slices;parks+=d.parks;steals+=d.steals;}
  sum.dataset.tracks=String(tids.length);sum.dataset.slices=String(total);sum.dataset.parks=String(parks);sum.dataset.steals=String(steals);sum.dataset.flows=String(nflows);sum.dataset.functions=String(colors.size);
  sum.textContent=tids.length+' tracks, '+total+' goroutine slices, '+parks+' parks, '+steals+' steals drawn';
  const tr=document.getElementById('tracks');tr.textContent='';
  for(const t of tids){const e=document.createElement('div');e.className='track';const d=drawn.get(t);e.dataset.tid=String(t);e.dataset.name=D.threads[t]||'';e.dataset.slices=String(d.slices);e.dataset.parks=String(d.parks);e.dataset.steals=String(d.steals);tr.appendChild(e);}
}
function legend(){
  const names=new Map();for(const s of D.slices)if(!s[4])names.set(s[3],(names.get(s[3])||0)+1);
  const lg=document.getElementById('legend');
  for(const [n,k] of [...names].sort((a,b)=>b[1]-a[1])){const e=document.createElement('span');const i=document.createElement('i');i.style.background=color(n);e.appendChild(i);e.appendChild(document.createTextNode(n+' ('+k+')'));e.dataset.fn=n;lg.appendChild(e);}
  const e=document.createElement('span');const i=document.createElement('i');i.style.background='#c8c8c8';e.appendChild(i);e.appendChild(document.createTextNode('M idle (spinning, polling, parked)'));lg.appendChild(e);
}
cv.addEventListener('wheel',(ev)=>{ev.preventDefault();const t=v0+(ev.offsetX-LABEL)/(cv.width-LABEL-10)*(v1-v0);const k=ev.deltaY>0?1.25:0.8;v0=t-(t-v0)*k;v1=t+(v1-t)*k;if(v1-v0>t1-t0){v0=t0;v1=t1;}draw();},{passive:false});
let drag=null;
cv.addEventListener('mousedown',(ev)=>{drag={x:ev.clientX,v0,v1};cv.style.cursor='grabbing';});
window.addEventListener('mouseup',()=>{drag=null;cv.style.cursor='grab';});
window.addEventListener('mousemove',(ev)=>{
  if(drag){const dt=(ev.clientX-drag.x)/(cv.width-LABEL-10)*(drag.v1-drag.v0);v0=drag.v0-dt;v1=drag.v1-dt;draw();return;}
  const tip=document.getElementById('tip');const r=cv.getBoundingClientRect();const x=ev.clientX-r.left,y=ev.clientY-r.top;
  const i=Math.floor((y-TOP)/ROW);const tid=tids[i];let hit=null;
  if(tid!==undefined&&x>LABEL){const t=v0+(x-LABEL)/(cv.width-LABEL-10)*(v1-v0);const eps=3/(cv.width-LABEL-10)*(v1-v0);
    for(const m of D.marks)if(m[0]===tid&&Math.abs(m[1]-t)<eps){hit=m[3];break;}
    if(!hit)for(const s of D.slices)if(s[0]===tid&&s[1]-eps<=t&&t<=s[1]+s[2]+eps){hit=s[4]?s[3]:s[3]+' (goroutine '+s[5]+'), '+s[2].toFixed(1)+' µs';break;}}
  if(hit){tip.style.display='block';tip.style.left=(x+12)+'px';tip.style.top=(y+12)+'px';tip.textContent=hit;}else tip.style.display='none';
});
document.getElementById('flows').addEventListener('change',draw);
document.getElementById('reset').addEventListener('click',()=>{v0=t0;v1=t1;draw();});
legend();draw();
document.body.dataset.drawn='1';
</script></body></html>
`;
}
