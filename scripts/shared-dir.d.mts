/** The repository's root folder. */
export declare const repoRoot: string;
/** The shared folder (holds `docs/` and `fixtures/`): PROF_SHARED, `../shared`, or beside the clone's origin. */
export declare const sharedDir: string;
/** `<shared>/fixtures`. */
export declare const fixturesDir: string;
