/** Kept equal to package.json by a test; a literal so the CLI's cold start reads no file for it. */
export const VERSION = '0.1.0';
