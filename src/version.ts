declare const __APP_VERSION__: string;

/** Written into every manifest, so an export says which Winnow made it (package.json's version). */
export const APP_VERSION: string = typeof __APP_VERSION__ === 'string' ? __APP_VERSION__ : '0.0.0-dev';
