// Files imported `with { type: 'file' }` resolve to a path (embedded when compiled).
declare module '*.css' {
  const path: string
  export default path
}
declare module '*.png' {
  const path: string
  export default path
}
declare module 'swagger-ui-dist/swagger-ui-bundle.js' {
  const path: string
  export default path
}
declare module '*.svg' {
  const path: string
  export default path
}
// Browser scripts: public/*.js and the vendored htmx, htmx-ext-sse and idiomorph files. Nothing in
// src/ imports JavaScript as code, so every .js import here is an embedded file.
declare module '*.js' {
  const path: string
  export default path
}
