// The benchmark's JS module worker, served by Miniflare 4 and by wrangler dev: the routes of worker.py.
// The reload benchmark rewrites the VERSION line.
const VERSION = "0";
const HOT_VALUE = "value".repeat(10);

async function seed(kv) {
  await kv.put("hot", HOT_VALUE);
  const puts = [];
  for (let i = 0; i < 1000; i++) puts.push(kv.put("p:" + String(i).padStart(4, "0"), "v", { metadata: { i } }));
  await Promise.all(puts);
}

export default {
  async fetch(request, env) {
    const path = new URL(request.url).pathname;
    if (path === "/read") return new Response(await env.KV.get("hot"));
    if (path === "/write") {
      await env.KV.put("k" + Math.floor(Math.random() * 1000), "value");
      return new Response("ok");
    }
    if (path === "/list") {
      const page = await env.KV.list({ prefix: "p:" });
      return new Response(String(page.keys.length));
    }
    if (path === "/version") return new Response(VERSION);
    if (path === "/seed") {
      await seed(env.KV);
      return new Response("seeded");
    }
    return new Response("hello");
  },
};
