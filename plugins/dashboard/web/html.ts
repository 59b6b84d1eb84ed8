import { h } from 'preact';
import htm from 'htm';

/** Tagged templates instead of JSX: no compile step beyond esbuild's type stripping. */
export const html = htm.bind(h);
