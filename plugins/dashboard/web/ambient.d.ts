declare module 'virtual:vocabulary' {
  const vocabulary: unknown[];
  export default vocabulary;
}

declare module '*.css';
