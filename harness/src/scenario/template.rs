//! `{{...}}` templates in paths, headers and bodies: compiled once when the
//! scenario is read (so an unknown name is an error before the run), rendered
//! per request with no parsing on the hot path.

use super::env;
use crate::redact::Secret;
use rand::rngs::StdRng;
use rand::Rng;
use std::fmt::Write as _;

/// What a `{{...}}` stands for.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Var {
    /// `{{user}}`: the user's number (the arrival's number in the open
    /// model, where each arrival is a new customer).
    User,
    /// `{{iteration}}`: the iteration's number (per user in the closed model,
    /// the arrival's number in the open model).
    Iteration,
    /// `{{idempotency_key}}`: unique per iteration, the same for each step of it.
    IdempotencyKey,
    /// `{{uuid}}`: a new random UUID at each use.
    Uuid,
    /// `{{random:a,b,c}}`: one of the choices, drawn at each use.
    Random(Vec<String>),
    /// `{{int:1,5}}`: an integer in the range (inclusive), drawn at each use.
    Int(i64, i64),
    /// `{{store}}` for a `[data]` list: the value this user drew from it at start.
    Data(usize),
    /// `{{order_id}}`: what an earlier step of the flow captured.
    Capture(usize),
    /// `{{env.NAME}}`: the variable's value, read once when the scenario was
    /// read; shown as `***` everywhere but the request itself.
    Env(Secret),
}

#[derive(Clone, Debug, PartialEq)]
enum Part {
    Lit(String),
    Var(Var),
}

/// A compiled template.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Template {
    parts: Vec<Part>,
}

/// Per-iteration values a template draws on.
pub(crate) struct Vars<'a> {
    pub(crate) user: u64,
    pub(crate) iteration: u64,
    pub(crate) idempotency_key: &'a str,
    /// This user's pick from each `[data]` list, by index.
    pub(crate) data: &'a [String],
    /// Captured so far in this iteration, by slot.
    pub(crate) captures: &'a [Option<String>],
    pub(crate) rng: &'a mut StdRng,
}

/// Looks up names that are not built in: `[data]` lists and captures.
pub(crate) trait Names {
    fn data(&self, name: &str) -> Option<usize>;
    /// `Ok(slot)` when an earlier step captures it, `Err(message)` otherwise.
    fn capture(&self, name: &str) -> Result<usize, String>;
}

impl Template {
    /// Compiles `text`, resolving every name; the error says which `{{...}}` is wrong.
    pub(crate) fn compile(text: &str, names: &dyn Names) -> Result<Template, String> {
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find("{{") {
            if open > 0 {
                parts.push(Part::Lit(rest[..open].to_string()));
            }
            let after = &rest[open + 2..];
            let close = after
                .find("}}")
                .ok_or_else(|| format!("unclosed `{{{{` in {text:?}: write `{{{{name}}}}`"))?;
            parts.push(Part::Var(parse_var(after[..close].trim(), names)?));
            rest = &after[close + 2..];
        }
        if !rest.is_empty() {
            parts.push(Part::Lit(rest.to_string()));
        }
        Ok(Template { parts })
    }

    /// The single variable this template is made of, if it is just one `{{...}}`.
    pub(crate) fn sole_var(&self) -> Option<&Var> {
        match self.parts.as_slice() {
            [Part::Var(v)] => Some(v),
            _ => None,
        }
    }

    /// Whether a value from the environment goes into it (then what it
    /// renders is a secret: marked sensitive on the wire, never shown).
    pub(crate) fn has_env(&self) -> bool {
        self.parts
            .iter()
            .any(|p| matches!(p, Part::Var(Var::Env(_))))
    }

    pub(crate) fn is_literal(&self) -> bool {
        self.parts.iter().all(|p| matches!(p, Part::Lit(_)))
    }

    pub(crate) fn render(&self, vars: &mut Vars<'_>) -> String {
        let mut out = String::new();
        self.render_into(vars, &mut out);
        out
    }

    pub(crate) fn render_into(&self, vars: &mut Vars<'_>, out: &mut String) {
        for part in &self.parts {
            match part {
                Part::Lit(s) => out.push_str(s),
                Part::Var(v) => render_var(v, vars, out),
            }
        }
    }
}

fn render_var(var: &Var, vars: &mut Vars<'_>, out: &mut String) {
    match var {
        Var::User => {
            let _ = write!(out, "{}", vars.user);
        }
        Var::Iteration => {
            let _ = write!(out, "{}", vars.iteration);
        }
        Var::IdempotencyKey => out.push_str(vars.idempotency_key),
        Var::Uuid => {
            let bytes: [u8; 16] = vars.rng.random();
            let _ = write!(
                out,
                "{}",
                uuid::Builder::from_random_bytes(bytes).into_uuid()
            );
        }
        Var::Random(choices) => out.push_str(&choices[vars.rng.random_range(0..choices.len())]),
        Var::Int(lo, hi) => {
            let _ = write!(out, "{}", vars.rng.random_range(*lo..=*hi));
        }
        Var::Data(i) => out.push_str(&vars.data[*i]),
        Var::Capture(slot) => {
            if let Some(value) = vars.captures.get(*slot).and_then(Option::as_ref) {
                out.push_str(value);
            }
        }
        Var::Env(value) => out.push_str(value.expose()),
    }
}

fn parse_var(inner: &str, names: &dyn Names) -> Result<Var, String> {
    if let Some(name) = inner.strip_prefix(env::PREFIX) {
        return env::read(name.trim()).map(Var::Env);
    }
    if let Some(list) = inner.strip_prefix("random:") {
        let choices: Vec<String> = list.split(',').map(|c| c.trim().to_string()).collect();
        if choices.iter().any(String::is_empty) {
            return Err(format!(
                "`{{{{{inner}}}}}` has an empty choice: write `{{{{random:a,b,c}}}}`"
            ));
        }
        return Ok(Var::Random(choices));
    }
    if let Some(range) = inner.strip_prefix("int:") {
        let bad =
            || format!("`{{{{{inner}}}}}` is not a range: write `{{{{int:1,5}}}}` (inclusive)");
        let (lo, hi) = range.split_once(',').ok_or_else(bad)?;
        let (lo, hi): (i64, i64) = (
            lo.trim().parse().map_err(|_| bad())?,
            hi.trim().parse().map_err(|_| bad())?,
        );
        if lo > hi {
            return Err(bad());
        }
        return Ok(Var::Int(lo, hi));
    }
    match inner {
        "user" => Ok(Var::User),
        "iteration" => Ok(Var::Iteration),
        "idempotency_key" => Ok(Var::IdempotencyKey),
        "uuid" => Ok(Var::Uuid),
        "" => Err("empty `{{}}`: write a name inside, e.g. `{{order_id}}`".to_string()),
        name => match names.data(name) {
            Some(i) => Ok(Var::Data(i)),
            None => names.capture(name).map(Var::Capture),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    struct Known;
    impl Names for Known {
        fn data(&self, name: &str) -> Option<usize> {
            (name == "store").then_some(0)
        }
        fn capture(&self, name: &str) -> Result<usize, String> {
            if name == "order_id" {
                Ok(0)
            } else {
                Err(format!("unknown `{{{{{name}}}}}`"))
            }
        }
    }

    fn render(t: &Template, captures: &[Option<String>]) -> String {
        let mut rng = StdRng::seed_from_u64(1);
        let data = vec!["store-3".to_string()];
        let mut vars = Vars {
            user: 7,
            iteration: 2,
            idempotency_key: "k-7-2",
            data: &data,
            captures,
            rng: &mut rng,
        };
        t.render(&mut vars)
    }

    #[test]
    fn names_captures_and_builtins_render() {
        let t = Template::compile("/stores/{{store}}/orders/{{ order_id }}?u={{user}}&i={{iteration}}&k={{idempotency_key}}", &Known).unwrap();
        assert_eq!(
            render(&t, &[Some("abc".into())]),
            "/stores/store-3/orders/abc?u=7&i=2&k=k-7-2"
        );
    }

    #[test]
    fn random_picks_come_from_the_choices() {
        let t = Template::compile("{{random:latte,mocha}}-{{int:1,3}}", &Known).unwrap();
        let out = render(&t, &[]);
        let (drink, n) = out.split_once('-').unwrap();
        assert!(["latte", "mocha"].contains(&drink), "{out}");
        assert!((1..=3).contains(&n.parse::<i64>().unwrap()), "{out}");
    }

    #[test]
    fn unknown_names_and_bad_syntax_are_refused() {
        assert!(Template::compile("/orders/{{nope}}", &Known)
            .unwrap_err()
            .contains("{{nope}}"));
        assert!(Template::compile("/orders/{{order_id", &Known)
            .unwrap_err()
            .contains("unclosed"));
        assert!(Template::compile("{{int:5,1}}", &Known).is_err());
        assert!(Template::compile("{{random:a,,b}}", &Known).is_err());
    }

    #[test]
    fn an_env_value_renders_but_never_shows() {
        std::env::set_var("HARNESS_UNIT_TEMPLATE_TOKEN", "t-5e0b42");
        let t = Template::compile("Bearer {{env.HARNESS_UNIT_TEMPLATE_TOKEN}}", &Known).unwrap();
        assert!(t.has_env());
        assert_eq!(render(&t, &[]), "Bearer t-5e0b42");
        assert!(!format!("{t:?}").contains("t-5e0b42"));
        let e = Template::compile("{{env.HARNESS_UNIT_TEMPLATE_UNSET}}", &Known).unwrap_err();
        assert!(e.contains("HARNESS_UNIT_TEMPLATE_UNSET is not set"), "{e}");
    }
}
