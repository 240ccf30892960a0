// esbuild bundles the stylesheets main.ts imports into dashboard.css.
declare module '*.css';
