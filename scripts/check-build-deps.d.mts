// Types of scripts/check-build-deps.mjs for the TypeScript tests that import it (test/native/build-deps.test.ts).
export declare const DEBIAN_BUILD_PACKAGES: string[];
export declare function missingBuildDeps(): Array<{ what: string; debian: string }>;
