/** Every generated file: its path (relative to the repository) and the content it should have. */
export function generatedFiles(): Promise<Array<{ path: string; content: string }>> | Array<{ path: string; content: string }>;
