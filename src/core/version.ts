/** day2's version, reported in initialize. Kept in step with package.json by the release process. */
export const VERSION = '0.1.0';
