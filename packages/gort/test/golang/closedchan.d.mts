// Types for closedchan.mjs (a plain JS module so that worker threads load it without a loader).
export declare function main(): Promise<string[]>;
