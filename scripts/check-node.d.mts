export declare const MIN_NODE: Readonly<{ major: number; minor: number }>;
export declare function nodeVersionProblem(version: string): string | undefined;
