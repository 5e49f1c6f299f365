// A generated flow for the editor benchmark: `nodes` nodes in a grid, wired by `${…}` references
// (the flow format's edges) so that there are exactly `edges` edges.
export function bigFlow(nodes = 1000, edges = 1200) {
  const columns = 40;
  const list = [];
  let wired = 0;
  for (let i = 0; i < nodes; i++) {
    const id = `n${i}`;
    const position = { x: (i % columns) * 320, y: Math.floor(i / columns) * 200 };
    const variables = {};
    // A chain through every node, then extra references from two nodes back until the
    // edge budget is spent.
    if (i > 0) {
      variables.previous = `\${n${i - 1}.output}`;
      wired++;
    }
    if (i > 1 && edges - wired > nodes - 1 - i) {
      variables.earlier = `\${n${i - 2}.output}`;
      wired++;
    }
    list.push({
      id,
      type: "prompt_template",
      title: `Step ${i}`,
      position,
      properties: { template: "{{ previous }} {{ earlier }}", variables },
    });
  }
  if (wired !== edges) throw new Error(`generated ${wired} edges, wanted ${edges}`);
  return { schema: 1, title: `${nodes} nodes`, nodes: list };
}
