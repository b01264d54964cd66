// Vite bundles the stylesheet the entry imports; TypeScript only needs to know it is a module.
declare module '*.css';
