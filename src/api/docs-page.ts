// GET /docs: a readable API reference rendered on the server from the OpenAPI document.
// No scripts, no CDN: goman often runs on machines that are offline.
type Json = Record<string, unknown>;

const esc = (s: unknown): string =>
  String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function schemaBlock(schema: unknown): string {
  return `<pre>${esc(JSON.stringify(schema, null, 2))}</pre>`;
}

function operationHtml(method: string, path: string, op: Json): string {
  const params = (op.parameters as Json[] | undefined) ?? [];
  const responses = (op.responses as Record<string, Json> | undefined) ?? {};
  const roles = Array.isArray(op['x-roles']) ? `<p class="roles">roles: ${esc((op['x-roles'] as string[]).join(', '))}</p>` : '<p class="roles">public</p>';
  const paramRows = params
    .map((p) => `<tr><td><code>${esc(p.name)}</code></td><td>${esc(p.in)}</td><td>${p.required ? 'yes' : ''}</td><td><code>${esc(JSON.stringify(p.schema))}</code> ${esc(p.description ?? '')}</td></tr>`)
    .join('');
  const body = op.requestBody as { content?: Record<string, { schema: unknown }> } | undefined;
  const bodyHtml = body?.content
    ? `<h4>Request body (${esc(Object.keys(body.content).join(', '))})</h4>${schemaBlock(Object.values(body.content)[0]?.schema)}`
    : '';
  const responseRows = Object.entries(responses)
    .map(([status, r]) => {
      const content = r.content as Record<string, { schema: unknown }> | undefined;
      const type = content ? Object.keys(content)[0] : '';
      const schema = content ? Object.values(content)[0]?.schema : undefined;
      const ref = schema && typeof schema === 'object' && '$ref' in schema ? String((schema as Json).$ref).split('/').pop() : '';
      return `<tr><td>${esc(status)}</td><td>${esc(r.description)}</td><td>${esc(type ?? '')}</td><td>${ref ? `<a href="#schema-${esc(ref)}">${esc(ref)}</a>` : ''}</td></tr>`;
    })
    .join('');
  return `<section class="op" id="${esc(op.operationId)}">
<h3><span class="method ${esc(method)}">${esc(method.toUpperCase())}</span> <code>${esc(path)}</code></h3>
<p>${esc(op.summary ?? '')}</p>${op.description ? `<p>${esc(op.description)}</p>` : ''}${roles}
${paramRows ? `<h4>Parameters</h4><table><tr><th>name</th><th>in</th><th>required</th><th>schema</th></tr>${paramRows}</table>` : ''}
${bodyHtml}
<h4>Responses</h4><table><tr><th>status</th><th>meaning</th><th>content type</th><th>schema</th></tr>${responseRows}</table>
</section>`;
}

export function renderDocs(doc: Json): string {
  const info = doc.info as Json;
  const paths = doc.paths as Record<string, Record<string, Json>>;
  const byTag = new Map<string, string[]>();
  const toc: string[] = [];
  for (const [path, ops] of Object.entries(paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const tag = ((op.tags as string[] | undefined) ?? ['other'])[0]!;
      if (!byTag.has(tag)) byTag.set(tag, []);
      byTag.get(tag)!.push(operationHtml(method, path, op));
      toc.push(`<li><a href="#${esc(op.operationId)}">${esc(method.toUpperCase())} ${esc(path)}</a></li>`);
    }
  }
  const sections = [...byTag].map(([tag, ops]) => `<h2>${esc(tag)}</h2>${ops.join('\n')}`).join('\n');
  const schemas = Object.entries(((doc.components as Json).schemas as Record<string, unknown> | undefined) ?? {})
    .map(([name, s]) => `<section id="schema-${esc(name)}"><h3>${esc(name)}</h3>${schemaBlock(s)}</section>`)
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(info.title)} ${esc(info.version)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:15px/1.5 system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem;color:#222}
code,pre{font-family:ui-monospace,monospace;font-size:13px}pre{background:#f6f8fa;padding:.75rem;overflow:auto;max-height:30rem}
table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ddd;padding:.25rem .5rem;text-align:left;vertical-align:top}
.op{border-top:1px solid #eee;padding-top:.5rem}.method{font-weight:bold;text-transform:uppercase;padding:0 .4rem;border-radius:3px;background:#eef}
.delete{background:#fee}.post{background:#efe}.put,.patch{background:#ffe}.roles{color:#666;font-size:13px}
</style></head><body>
<h1>${esc(info.title)} <small>${esc(info.version)}</small></h1>
<p>${esc(info.description ?? '')}</p>
<p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1). Authenticate with <code>Authorization: Bearer &lt;token&gt;</code>.</p>
<ul>${toc.join('')}</ul>
${sections}
<h2>Schemas</h2>
${schemas}
</body></html>`;
}
