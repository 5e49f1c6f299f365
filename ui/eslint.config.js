import js from "@eslint/js";
import reactHooks from "eslint-plugin-react-hooks";
import globals from "globals";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist", "dist-e2e", "test-results", "src/ipc/generated"] },
  {
    files: ["**/*.{ts,tsx}"],
    extends: [js.configs.recommended, ...tseslint.configs.recommended, reactHooks.configs.flat.recommended],
    languageOptions: { globals: globals.browser },
    rules: {
      "@typescript-eslint/no-explicit-any": "error",
      // The UI talks to Rust only through src/ipc.
      "no-restricted-imports": [
        "error",
        { paths: [{ name: "@tauri-apps/api/core", message: "Call Rust through src/ipc instead." }] },
      ],
    },
  },
  { files: ["src/ipc/**"], rules: { "no-restricted-imports": "off" } },
  { files: ["**/*.{js,mjs}"], extends: [js.configs.recommended], languageOptions: { globals: globals.node } },
  // Browser tests and the benchmark pass callbacks that run inside the page.
  { files: ["tests/browser/**", "bench/**"], languageOptions: { globals: { ...globals.node, ...globals.browser } } },
);
