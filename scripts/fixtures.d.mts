/** The repository root. */
export declare const repoRoot: string;
/** The committed fixtures folder (big files packed as `NAME.packed.gz`); read `fixturesDir` instead. */
export declare const packedFixturesDir: string;
/** The fixtures tree with every file inflated to its original name (a cache folder keyed by content). */
export declare const fixturesDir: string;
