//! An order-preserving JSON tree for editing the captured sample lines.
//!
//! Every line fake-claude prints is a real captured line with some values replaced. Editing
//! through `serde_json::Value` would re-sort every object's keys (its `preserve_order` feature
//! pulls in another crate, and turning it on would change `serde_json` for the whole main
//! project). Keys in the real output are not sorted — a result line starts with
//! `duration_api_ms`, not `api_error_status` — and a test double should not differ from the real
//! thing even where a sensible parser does not look. So this module keeps the template's own key
//! order and its scalars' exact text; only the values we replace are re-serialised.
//!
//! Templates are fixed at compile time, so a path that does not exist is a bug in fake-claude and
//! panics (the shape tests run every template).

use serde_json::Value;

/// One JSON value. Scalars keep their original text, objects keep their key order.
#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    /// A string, number, `true`, `false` or `null`, as JSON text.
    Raw(String),
    Obj(Vec<(String, Node)>),
    Arr(Vec<Node>),
}

impl Node {
    /// Parses one JSON value. The input is trusted to be valid JSON (a sample line, or text
    /// `serde_json` has already accepted); the checks here only keep a bad input from panicking.
    pub fn parse(text: &str) -> Result<Node, String> {
        let mut p = Parser {
            s: text.as_bytes(),
            i: 0,
        };
        let node = p.value()?;
        p.ws();
        if p.i != p.s.len() {
            return Err(format!("trailing characters at byte {}", p.i));
        }
        Ok(node)
    }

    /// An object with these fields, in this order.
    pub fn obj<const N: usize>(fields: [(&str, Node); N]) -> Node {
        Node::Obj(fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
    }

    /// Returns the value at `path` (object keys, or decimal indexes into arrays).
    pub fn at(&self, path: &[&str]) -> Option<&Node> {
        let mut node = self;
        for seg in path {
            node = match node {
                Node::Obj(fields) => &fields.iter().find(|(k, _)| k == seg)?.1,
                Node::Arr(items) => items.get(seg.parse::<usize>().ok()?)?,
                Node::Raw(_) => return None,
            };
        }
        Some(node)
    }

    fn at_mut(&mut self, path: &[&str]) -> Option<&mut Node> {
        let mut node = self;
        for seg in path {
            node = match node {
                Node::Obj(fields) => &mut fields.iter_mut().find(|(k, _)| k == seg)?.1,
                Node::Arr(items) => items.get_mut(seg.parse::<usize>().ok()?)?,
                Node::Raw(_) => return None,
            };
        }
        Some(node)
    }

    /// Replaces the value at an existing `path`.
    pub fn set(&mut self, path: &[&str], value: impl Into<Node>) {
        match self.at_mut(path) {
            Some(slot) => *slot = value.into(),
            None => panic!("template has no value at {path:?}"),
        }
    }

    /// Whether this object has the top-level key `key`.
    pub fn has(&self, key: &str) -> bool {
        matches!(self, Node::Obj(fields) if fields.iter().any(|(k, _)| k == key))
    }

    /// Removes a top-level key if present.
    pub fn remove(&mut self, key: &str) {
        if let Node::Obj(fields) = self {
            fields.retain(|(k, _)| k != key);
        }
    }

    /// Serialises compactly, as the CLI prints (no spaces).
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut String) {
        match self {
            Node::Raw(text) => out.push_str(text),
            Node::Obj(fields) => {
                out.push('{');
                for (n, (key, value)) in fields.iter().enumerate() {
                    if n > 0 {
                        out.push(',');
                    }
                    out.push_str(&Value::from(key.as_str()).to_string());
                    out.push(':');
                    value.write(out);
                }
                out.push('}');
            }
            Node::Arr(items) => {
                out.push('[');
                for (n, item) in items.iter().enumerate() {
                    if n > 0 {
                        out.push(',');
                    }
                    item.write(out);
                }
                out.push(']');
            }
        }
    }
}

impl From<Value> for Node {
    fn from(value: Value) -> Node {
        match value {
            Value::Object(map) => Node::Obj(map.into_iter().map(|(k, v)| (k, v.into())).collect()),
            Value::Array(items) => Node::Arr(items.into_iter().map(Node::from).collect()),
            scalar => Node::Raw(scalar.to_string()),
        }
    }
}

impl From<&str> for Node {
    fn from(text: &str) -> Node {
        Node::Raw(Value::from(text).to_string())
    }
}

impl From<String> for Node {
    fn from(text: String) -> Node {
        Node::from(text.as_str())
    }
}

impl From<u64> for Node {
    fn from(n: u64) -> Node {
        Node::Raw(n.to_string())
    }
}

impl From<f64> for Node {
    fn from(n: f64) -> Node {
        Node::Raw(Value::from(n).to_string())
    }
}

impl From<bool> for Node {
    fn from(b: bool) -> Node {
        Node::Raw(b.to_string())
    }
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.s.get(self.i).is_some_and(|b| b.is_ascii_whitespace()) {
            self.i += 1;
        }
    }

    fn expect(&mut self, byte: u8) -> Result<(), String> {
        self.ws();
        if self.s.get(self.i) == Some(&byte) {
            self.i += 1;
            Ok(())
        } else {
            Err(format!("expected '{}' at byte {}", byte as char, self.i))
        }
    }

    fn value(&mut self) -> Result<Node, String> {
        self.ws();
        match self.s.get(self.i) {
            Some(b'{') => {
                self.i += 1;
                let mut fields = Vec::new();
                self.ws();
                if self.s.get(self.i) == Some(&b'}') {
                    self.i += 1;
                    return Ok(Node::Obj(fields));
                }
                loop {
                    self.ws();
                    let raw_key = self.string()?;
                    let key: String =
                        serde_json::from_str(raw_key).map_err(|e| format!("bad key: {e}"))?;
                    self.expect(b':')?;
                    fields.push((key, self.value()?));
                    self.ws();
                    match self.s.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b'}') => {
                            self.i += 1;
                            return Ok(Node::Obj(fields));
                        }
                        _ => return Err(format!("expected ',' or '}}' at byte {}", self.i)),
                    }
                }
            }
            Some(b'[') => {
                self.i += 1;
                let mut items = Vec::new();
                self.ws();
                if self.s.get(self.i) == Some(&b']') {
                    self.i += 1;
                    return Ok(Node::Arr(items));
                }
                loop {
                    items.push(self.value()?);
                    self.ws();
                    match self.s.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b']') => {
                            self.i += 1;
                            return Ok(Node::Arr(items));
                        }
                        _ => return Err(format!("expected ',' or ']' at byte {}", self.i)),
                    }
                }
            }
            Some(b'"') => Ok(Node::Raw(self.string()?.to_owned())),
            Some(_) => {
                let start = self.i;
                while self
                    .s
                    .get(self.i)
                    .is_some_and(|b| !matches!(b, b',' | b'}' | b']') && !b.is_ascii_whitespace())
                {
                    self.i += 1;
                }
                let text =
                    std::str::from_utf8(&self.s[start..self.i]).map_err(|e| e.to_string())?;
                if text.is_empty() {
                    return Err(format!("expected a value at byte {start}"));
                }
                Ok(Node::Raw(text.to_owned()))
            }
            None => Err("unexpected end of input".to_owned()),
        }
    }

    /// Returns the raw text of a string literal, quotes included.
    fn string(&mut self) -> Result<&str, String> {
        let start = self.i;
        if self.s.get(self.i) != Some(&b'"') {
            return Err(format!("expected a string at byte {start}"));
        }
        self.i += 1;
        loop {
            match self.s.get(self.i) {
                Some(b'\\') => self.i += 2,
                Some(b'"') => {
                    self.i += 1;
                    return std::str::from_utf8(&self.s[start..self.i]).map_err(|e| e.to_string());
                }
                Some(_) => self.i += 1,
                None => return Err("unterminated string".to_owned()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_key_order_and_scalar_text() {
        let text = r#"{"z":1,"a":{"y":[1.50,"x\"y",null,true]},"m":[]}"#;
        assert_eq!(Node::parse(text).unwrap().to_json(), text);
    }

    #[test]
    fn set_replaces_only_the_value() {
        let mut node = Node::parse(r#"{"b":{"c":[0,1]},"a":"x"}"#).unwrap();
        node.set(&["b", "c", "1"], 7u64);
        node.set(&["a"], "q\"");
        assert_eq!(node.to_json(), r#"{"b":{"c":[0,7]},"a":"q\""}"#);
    }
}
