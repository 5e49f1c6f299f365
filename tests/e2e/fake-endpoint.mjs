// A stand-in for an Azure AI Foundry `/models` endpoint on 127.0.0.1. The app's Rust client
// calls it with the key it read from the keychain; every call is recorded for the test to check.
import { createServer } from "node:http";

/**
 * Starts the endpoint. A streamed chat request (`"stream": true`) gets `words` as SSE deltas,
 * then a usage chunk; any other request gets one JSON completion whose text is `words.join("")`.
 */
export async function startFakeEndpoint({ words = ["OK"] } = {}) {
  const calls = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      const json = body ? JSON.parse(body) : {};
      calls.push({ url: req.url, key: req.headers["api-key"], body: json });
      const model = "gpt-4o-mini-2024-07-18";
      if (!json.stream) {
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify({
          model,
          choices: [{ index: 0, message: { role: "assistant", content: words.join("") }, finish_reason: "stop" }],
          usage: { prompt_tokens: 9, completion_tokens: words.length, total_tokens: 9 + words.length },
        }));
        return;
      }
      res.setHeader("content-type", "text/event-stream");
      const events = [
        { model, choices: [], prompt_filter_results: [] },
        ...words.map((w) => ({ model, choices: [{ index: 0, delta: { content: w } }] })),
        { model, choices: [{ index: 0, delta: {}, finish_reason: "stop" }] },
        { model, choices: [], usage: { prompt_tokens: 9, completion_tokens: words.length, total_tokens: 9 + words.length } },
      ];
      for (const event of events) res.write(`data: ${JSON.stringify(event)}\n\n`);
      res.end("data: [DONE]\n\n");
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    endpoint: `http://127.0.0.1:${server.address().port}/models`,
    calls,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
