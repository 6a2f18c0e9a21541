// Types for helpers.mjs (a plain JS module so that worker threads load it without a loader).
export declare function where(): number;
