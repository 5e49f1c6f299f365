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

// A stand-in for an Azure AI Content Safety resource (`https://<resource>.cognitiveservices.azure.com`)
// on 127.0.0.1: the text analysis operation, as the Rust fake (crates/weft-testkit/src/content_safety.rs)
// and the app's client read the published contract
// (https://learn.microsoft.com/rest/api/contentsafety/text-operations/analyze-text; Azure/azure-rest-api-specs
// specification/cognitiveservices/data-plane/ContentSafety/stable/2024-09-01/contentsafety.json):
//
// - `POST {endpoint}/contentsafety/text:analyze?api-version=2024-09-01`, the key in
//   `Ocp-Apim-Subscription-Key`;
// - body `{text, categories?, blocklistNames?, haltOnBlocklistHit?, outputType?}`: `text` at most
//   10,000 Unicode code points, no category named means all four (Hate, SelfHarm, Sexual,
//   Violence), `outputType` `FourSeverityLevels` (default; 0, 2, 4, 6) or `EightSeverityLevels`;
// - answer `{blocklistsMatch: [...], categoriesAnalysis: [{category, severity}]}`, with the
//   an `apim-request-id` header (the resource's id for the call, which the app keeps for
//   error messages);
// - errors `{"error": {"code", "message"}}` with an `x-ms-error-code` header, codes from
//   https://learn.microsoft.com/azure/ai-services/content-safety/concepts/response-codes; a refused key
//   is 401 with the text Azure AI services send (quoted in MicrosoftDocs/azure-docs#36456). The docs
//   say nothing of an unknown route or api-version, nor of the 400s' texts: the fake answers 404
//   `Resource not found` and its own messages there, as the Rust fake does.
//
// The fake's judgement: a text containing `VIOLENCE_TRIGGER` (any case) has Violence severity 6
// (the highest four-level value; "high" on both scales); everything else is severity 0. The fake
// holds no blocklists, so naming one is the service's ResourceNotFound.

/** The word that makes the fake find high Violence severity. */
export const VIOLENCE_TRIGGER = "crowbar";
const CATEGORIES = ["Hate", "SelfHarm", "Sexual", "Violence"];
const CONTENT_SAFETY_API_VERSION = "2024-09-01";
const MAX_TEXT_CHARS = 10_000;
const ACCESS_DENIED =
  "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.";

/**
 * Starts the resource. With `key`, any other `Ocp-Apim-Subscription-Key` (or none) is refused
 * with 401. Every request is recorded: method, URL, the subscription key header, body.
 */
export async function startFakeContentSafety({ key } = {}) {
  const calls = [];
  let requestCount = 0;
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      const subscriptionKey = req.headers["ocp-apim-subscription-key"];
      let json;
      try {
        json = body ? JSON.parse(body) : {};
      } catch {
        json = undefined;
      }
      calls.push({ method: req.method, url: req.url, subscriptionKey, body: json });
      res.setHeader("apim-request-id", `fake-cs-${++requestCount}`);
      const url = new URL(req.url, "http://fake");
      if (
        req.method !== "POST" ||
        url.pathname !== "/contentsafety/text:analyze" ||
        url.searchParams.get("api-version") !== CONTENT_SAFETY_API_VERSION
      ) {
        return safetyError(res, 404, "404", "Resource not found");
      }
      if (key !== undefined && subscriptionKey !== key) return safetyError(res, 401, "401", ACCESS_DENIED);
      if (json === undefined) return safetyError(res, 400, "InvalidRequestBody", "The request body is not valid JSON.");
      analyzeText(res, json);
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    endpoint: `http://127.0.0.1:${server.address().port}`,
    calls,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

function safetyError(res, status, code, message) {
  res.statusCode = status;
  res.setHeader("content-type", "application/json");
  res.setHeader("x-ms-error-code", code);
  res.end(JSON.stringify({ error: { code, message } }));
}

function analyzeText(res, json) {
  // The messages of these 400s are the fake's own: the docs give the codes, not the texts.
  if (typeof json.text !== "string") return safetyError(res, 400, "InvalidRequestBody", "The text field is required.");
  if ([...json.text].length > MAX_TEXT_CHARS) {
    return safetyError(res, 400, "InvalidRequestBody", `The text exceeds the maximum length of ${MAX_TEXT_CHARS} characters.`);
  }
  const outputType = json.outputType ?? "FourSeverityLevels";
  if (!["FourSeverityLevels", "EightSeverityLevels"].includes(outputType)) {
    return safetyError(res, 400, "InvalidRequestBody", `Unknown output type '${outputType}'.`);
  }
  const categories = Array.isArray(json.categories) && json.categories.length ? json.categories : CATEGORIES;
  const unknown = categories.find((category) => !CATEGORIES.includes(category));
  if (unknown !== undefined) return safetyError(res, 400, "InvalidRequestBody", `Unknown category ${JSON.stringify(unknown)}.`);
  const blocklist = (json.blocklistNames ?? [])[0];
  if (blocklist !== undefined) return safetyError(res, 404, "ResourceNotFound", `Blocklist '${blocklist}' does not exist.`);
  const violent = json.text.toLowerCase().includes(VIOLENCE_TRIGGER);
  res.setHeader("content-type", "application/json");
  res.end(JSON.stringify({
    blocklistsMatch: [],
    categoriesAnalysis: categories.map((category) => ({ category, severity: category === "Violence" && violent ? 6 : 0 })),
  }));
}
