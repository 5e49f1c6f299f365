// A stand-in for an Azure AI Foundry / Azure OpenAI resource on 127.0.0.1, routed like Azure is
// today, so the real app is tested against the API a user's resource serves:
//
// - the OpenAI v1 API, `POST {resource}/openai/v1/chat/completions` and `…/openai/v1/embeddings`,
//   with no `api-version`, the deployment named in the body's `model` (required) and either an
//   `api-key` header or `Authorization: Bearer <Entra token>`. One resource serves every one of
//   its deployments this way (OpenAI models and Foundry models alike).
//   https://learn.microsoft.com/en-us/azure/ai-foundry/how-to/model-inference-to-openai-migration
//   https://learn.microsoft.com/en-us/azure/ai-foundry/openai/latest (v1 REST reference)
// - the Azure AI Model Inference API (`{resource}/models/...`), retired on 2026-08-26
//   (https://learn.microsoft.com/en-us/azure/foundry-classic/foundry-models/supported-languages),
//   answers 410 with Azure's error shape: retired Azure AI APIs answer `410` with code `Gone` and
//   "The requested API version has been retired."
//   (https://learn.microsoft.com/en-us/answers/questions/5962092/azure-document-intelligence-version).
//
// Errors have Azure's body, `{"error":{"code":…,"message":…}}`; an unknown deployment is Azure's
// `DeploymentNotFound` 404 (its message as the service prints it). Every request is recorded for
// the test to check: method, URL (path and query), the `api-key` and `authorization` headers, body.
import { createServer } from "node:http";

/** The deployments a resource has by default: name → the model version the service reports. */
const DEPLOYMENTS = {
  "gpt-4o-mini": "gpt-4o-mini-2024-07-18",
  "text-embedding-3-small": "text-embedding-3-small",
};

const DEPLOYMENT_NOT_FOUND =
  "The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.";

/**
 * Starts the resource. A streamed chat request (`"stream": true`) gets `words` as SSE deltas,
 * then a usage chunk; a chat request without it gets one JSON completion whose text is
 * `words.join("")`; an embeddings request gets one 3-number vector per input.
 * `endpoint` is the resource's base URL, as the user pastes it (`http://127.0.0.1:PORT`).
 */
export async function startFakeEndpoint({ words = ["OK"], deployments = DEPLOYMENTS } = {}) {
  const calls = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      const json = body ? JSON.parse(body) : {};
      calls.push({
        method: req.method,
        url: req.url,
        apiKey: req.headers["api-key"],
        authorization: req.headers.authorization,
        body: json,
      });
      const path = new URL(req.url, "http://fake").pathname;
      if (path === "/models" || path.startsWith("/models/")) {
        return error(res, 410, "Gone", "The requested API version has been retired.");
      }
      const route = V1_ROUTES[path];
      if (!route || req.method !== "POST") return error(res, 404, "404", "Resource not found");
      // v1 requires `model`; this text is the fake's own (Azure documents no exact one).
      if (typeof json.model !== "string" || !json.model) return error(res, 400, "BadRequest", "the body has no model");
      const model = deployments[json.model];
      if (!model) return error(res, 404, "DeploymentNotFound", DEPLOYMENT_NOT_FOUND);
      route(res, json, model, words);
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    endpoint: `http://127.0.0.1:${server.address().port}`,
    calls,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

const V1_ROUTES = {
  "/openai/v1/chat/completions": chat,
  "/openai/v1/embeddings": embeddings,
};

function error(res, status, code, message) {
  res.statusCode = status;
  res.setHeader("content-type", "application/json");
  res.end(JSON.stringify({ error: { code, message } }));
}

function chat(res, json, model, words) {
  const usage = { prompt_tokens: 9, completion_tokens: words.length, total_tokens: 9 + words.length };
  if (!json.stream) {
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({
      object: "chat.completion",
      model,
      choices: [{ index: 0, message: { role: "assistant", content: words.join("") }, finish_reason: "stop" }],
      usage,
    }));
    return;
  }
  res.setHeader("content-type", "text/event-stream");
  const events = [
    { model, choices: [], prompt_filter_results: [] },
    ...words.map((w) => ({ model, choices: [{ index: 0, delta: { content: w } }] })),
    { model, choices: [{ index: 0, delta: {}, finish_reason: "stop" }] },
    { model, choices: [], usage },
  ];
  for (const event of events) res.write(`data: ${JSON.stringify(event)}\n\n`);
  res.end("data: [DONE]\n\n");
}

function embeddings(res, json, model) {
  const inputs = Array.isArray(json.input) ? json.input : [json.input];
  res.setHeader("content-type", "application/json");
  res.end(JSON.stringify({
    object: "list",
    model,
    data: inputs.map((_, index) => ({ object: "embedding", index, embedding: [0.25, -0.5, 0.125] })),
    usage: { prompt_tokens: inputs.length, total_tokens: inputs.length },
  }));
}
