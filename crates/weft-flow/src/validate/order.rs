//! What runs before what, on the flow's Graph: no cycles, and no two writers of a variable
//! racing.

use super::Checker;

impl<'a> Checker<'a> {
    pub(super) fn check_cycles(&mut self) {
        if let Some(path) = self.graph.cycle() {
            let message = format!("a cycle: {}", path.join(" → "));
            let at = path[0].to_owned();
            self.error(Some(&at), None, message);
        }
    }

    /// Two unordered writers of one variable would race.
    pub(super) fn check_variable_order(&mut self) {
        let mut races = Vec::new();
        for (name, writers) in self.graph.setters() {
            for (i, a) in writers.iter().enumerate() {
                for b in &writers[i + 1..] {
                    if !self.graph.reaches(a, b) && !self.graph.reaches(b, a) {
                        races.push((name.clone(), a.clone(), b.clone()));
                    }
                }
            }
        }
        for (name, a, b) in races {
            self.error(
                Some(&b),
                None,
                format!("`{a}` and `{b}` both set `vars.{name}` and neither runs after the other, so the value would depend on timing; make one read the other's output"),
            );
        }
    }
}

#[cfg(test)]
mod tests {

    use crate::validate::tests::errors;

    #[test]
    fn cycles_are_reported_with_their_path() {
        let yaml = r#"
schema: 1
nodes:
  - { id: a, type: prompt_template, position: { x: 0, y: 0 }, properties: { template: "{{ x }}", variables: { x: "${b.output}" } } }
  - { id: b, type: prompt_template, position: { x: 0, y: 0 }, properties: { template: "{{ x }}", variables: { x: "${a.output}" } } }
"#;
        let found = errors(yaml);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0] == "error: node a: a cycle: a → b → a"
                || found[0] == "error: node b: a cycle: b → a → b",
            "{found:?}"
        );
    }

    #[test]
    fn unordered_writers_of_a_variable_race() {
        let yaml = r#"
schema: 1
nodes:
  - { id: declare, type: declare_variable, position: { x: 0, y: 0 }, properties: { name: count, value_type: number } }
  - { id: one, type: set_variable, position: { x: 0, y: 0 }, properties: { name: count, value: 1 } }
  - { id: two, type: set_variable, position: { x: 0, y: 0 }, properties: { name: count, value: 2 } }
"#;
        assert_eq!(
            errors(yaml),
            [
                "error: node two: `one` and `two` both set `vars.count` and neither runs after the other, so the value would depend on timing; make one read the other's output"
            ]
        );
    }
}
