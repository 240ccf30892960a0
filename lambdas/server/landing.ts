/** What a person sees at `/` until the dashboard (a later issue) replaces it. */
export function landingPage(version: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>adclick ${version}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:44rem;margin:3rem auto;padding:0 1rem}code{background:#f3f3f3;padding:0 .25rem}</style>
</head><body>
<h1>adclick ${version}</h1>
<p>Real-time ad click prediction. This server is running on its embedded defaults.</p>
<ul>
<li><a href="/health">/health</a>: each dependency's state</li>
<li><a href="/openapi.json">/openapi.json</a>: the API (OpenAPI 3)</li>
</ul>
<p>Try: <code>curl -s localhost:3000/predict -H 'content-type: application/json' -d '{"user_id":"u1","ad_id":"a1"}'</code></p>
</body></html>
`;
}
