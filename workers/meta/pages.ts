/**
 * The two public HTML pages. Both load only what `/assets/` serves (scripts/build-assets.ts builds
 * it into wrangler's `[assets]` directory): no CDN, no font service, so they work offline.
 */

/** An HTML page with the head both pages share; `head` adds lines after the title. */
function page(title: string, head: string[], body: string): string {
  return [
    "<!doctype html>",
    '<html lang="en">',
    "<head>",
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${title}</title>`,
    ...head,
    "</head>",
    "<body>",
    body,
    "</body>",
    "</html>",
  ].join("\n");
}

/**
 * `/docs`: Scalar's self-contained browser bundle rendering `/openapi.json`, without what would reach
 * another host: its default fonts, telemetry, and its "Ask AI" agent and MCP integrations.
 */
export const DOCS_HTML = page(
  "Switchyard API",
  [],
  `<div id="app"></div>
<script src="/assets/vendor/scalar-api-reference.js"></script>
<script>
Scalar.createApiReference("#app", {
  url: "/openapi.json",
  withDefaultFonts: false,
  telemetry: false,
  showDeveloperTools: "never",
  mcp: { disabled: true },
  agent: { disabled: true },
});
</script>`,
);

/**
 * `/console`: the shell; its first view is the token form, which the script then takes over (until
 * then the form submits nothing, so a token never lands in a URL).
 */
export const CONSOLE_HTML = page(
  "Switchyard console",
  [
    '<link rel="stylesheet" href="/assets/console/style.css">',
    '<script type="module" src="/assets/console/app.js"></script>',
  ],
  `<header>
<span class="brand">Switchyard</span>
<nav id="nav" aria-label="Main" hidden>
<a href="#/overview">Overview</a>
<a href="#/db">Database</a>
<a href="/docs">API reference</a>
<button type="button" id="sign-out">Sign out</button>
</nav>
</header>
<main id="main" tabindex="-1">
<form class="login" onsubmit="return false">
<h1>Switchyard console</h1>
<label for="token">API token</label>
<input type="password" id="token" name="token" autocomplete="off" aria-label="API token" placeholder="paste an API token">
<button type="submit">Sign in</button>
</form>
</main>`,
);
