#!/usr/bin/env node
// The `gort-trace` command. A committed file rather than the built one, so that installing
// the workspace before its first build can link the command; the program itself is
// src/bin/gort-trace.ts, built to dist/bin/gort-trace.js.
import '../dist/bin/gort-trace.js';
