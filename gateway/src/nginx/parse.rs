//! Directives into a tree, `include` followed: NGINX resolves a relative
//! include against the configuration prefix (the main file's directory)
//! and expands globs in sorted order; an include that matches nothing is
//! fine when it is a glob, an error otherwise.

use std::path::{Path, PathBuf};

use super::glob;
use super::lexer::{LexError, Lexer, Pos, Step, Word};

/// Deepest nesting of blocks and includes accepted (NGINX has no limit but
/// its stack; a hostile file must not exhaust ours).
const MAX_DEPTH: usize = 64;

/// One directive with its block, and where it was written.
#[derive(Debug, Clone)]
pub struct Directive {
    /// The name (`location`).
    pub name: String,
    /// The arguments.
    pub args: Vec<Word>,
    /// The block's directives, for `name ... { }`.
    pub block: Option<Vec<Directive>>,
    /// Index of the file in [`Parsed::files`].
    pub file: usize,
    /// Where the name starts.
    pub pos: Pos,
}

impl Directive {
    /// The argument texts.
    pub fn arg_texts(&self) -> Vec<&str> {
        self.args.iter().map(|w| w.text.as_str()).collect()
    }

    /// The `n`th argument's text, or `""`.
    pub fn arg(&self, n: usize) -> &str {
        self.args.get(n).map(|w| w.text.as_str()).unwrap_or("")
    }

    /// The block's directives (empty for a simple directive).
    pub fn children(&self) -> &[Directive] {
        self.block.as_deref().unwrap_or_default()
    }
}

/// A parsed configuration: the top-level directives and every file read.
#[derive(Debug, Clone)]
pub struct Parsed {
    /// The top level of the main file, includes spliced in.
    pub directives: Vec<Directive>,
    /// Files read, the main one first.
    pub files: Vec<PathBuf>,
    /// Includes that could not be read: (file, position, problem).
    pub unreadable: Vec<(usize, Pos, String)>,
}

/// Why a configuration could not be parsed (NGINX would refuse it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// The file.
    pub file: PathBuf,
    /// Where.
    pub pos: Pos,
    /// What.
    pub message: String,
}

impl std::fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file.display(),
            self.pos.line,
            self.pos.col,
            self.message
        )
    }
}

/// Parse the file at `path`, following includes relative to `conf_prefix`.
pub fn parse_file(path: &Path, conf_prefix: &Path) -> Result<Parsed, SyntaxError> {
    let bytes = std::fs::read(path).map_err(|e| SyntaxError {
        file: path.to_path_buf(),
        pos: Pos::default(),
        message: format!("cannot read: {e}"),
    })?;
    parse_bytes(path, &bytes, conf_prefix)
}

/// Parse `bytes` as the contents of `path`.
pub fn parse_bytes(path: &Path, bytes: &[u8], conf_prefix: &Path) -> Result<Parsed, SyntaxError> {
    let mut parser = Parser {
        files: vec![path.to_path_buf()],
        unreadable: Vec::new(),
        conf_prefix: conf_prefix.to_path_buf(),
    };
    let directives = parser.parse_source(0, bytes, 0)?;
    Ok(Parsed {
        directives,
        files: parser.files,
        unreadable: parser.unreadable,
    })
}

struct Parser {
    files: Vec<PathBuf>,
    unreadable: Vec<(usize, Pos, String)>,
    conf_prefix: PathBuf,
}

impl Parser {
    fn error(&self, file: usize, e: LexError) -> SyntaxError {
        SyntaxError {
            file: self.files.get(file).cloned().unwrap_or_default(),
            pos: e.pos,
            message: e.message,
        }
    }

    fn parse_source(
        &mut self,
        file: usize,
        bytes: &[u8],
        depth: usize,
    ) -> Result<Vec<Directive>, SyntaxError> {
        let mut lexer = Lexer::new(bytes);
        self.parse_block(file, &mut lexer, depth, true)
    }

    fn parse_block(
        &mut self,
        file: usize,
        lexer: &mut Lexer<'_>,
        depth: usize,
        top: bool,
    ) -> Result<Vec<Directive>, SyntaxError> {
        let mut out = Vec::new();
        loop {
            let step = lexer.next_step().map_err(|e| self.error(file, e))?;
            match step {
                Step::Eof(pos) if !top => {
                    let e = LexError {
                        pos,
                        message: "unexpected end of file, expecting \"}\"".into(),
                    };
                    return Err(self.error(file, e));
                }
                Step::Eof(_) => return Ok(out),
                Step::BlockEnd(pos) if top => {
                    let e = LexError {
                        pos,
                        message: "unexpected \"}\"".into(),
                    };
                    return Err(self.error(file, e));
                }
                Step::BlockEnd(_) => return Ok(out),
                Step::Directive { mut words, block } => {
                    let name = words.remove(0);
                    if depth >= MAX_DEPTH {
                        let e = LexError {
                            pos: name.pos,
                            message: format!("nested more than {MAX_DEPTH} levels deep"),
                        };
                        return Err(self.error(file, e));
                    }
                    let children = if !block {
                        None
                    } else if name.text.ends_with("_by_lua_block") {
                        lexer.skip_raw_block().map_err(|e| self.error(file, e))?;
                        Some(Vec::new())
                    } else {
                        Some(self.parse_block(file, lexer, depth + 1, false)?)
                    };
                    if name.text == "include" && children.is_none() && words.len() == 1 {
                        let pattern = words.first().map(|w| w.text.clone()).unwrap_or_default();
                        out.extend(self.include(file, name.pos, &pattern, depth + 1)?);
                        continue;
                    }
                    out.push(Directive {
                        name: name.text,
                        args: words,
                        block: children,
                        file,
                        pos: name.pos,
                    });
                }
            }
        }
    }

    fn include(
        &mut self,
        file: usize,
        pos: Pos,
        pattern: &str,
        depth: usize,
    ) -> Result<Vec<Directive>, SyntaxError> {
        let full = self.conf_prefix.join(pattern);
        let paths = if glob::has_wildcards(pattern) {
            glob::expand(&full)
        } else {
            vec![full]
        };
        let mut out = Vec::new();
        for path in paths {
            let bytes = match std::fs::read(&path) {
                Ok(b) => b,
                Err(e) => {
                    self.unreadable.push((
                        file,
                        pos,
                        format!("cannot read {}: {e}", path.display()),
                    ));
                    continue;
                }
            };
            if self.files.len() > 4096 {
                let e = LexError {
                    pos,
                    message: "more than 4096 included files (an include loop?)".into(),
                };
                return Err(self.error(file, e));
            }
            self.files.push(path);
            let index = self.files.len() - 1;
            out.extend(self.parse_source(index, &bytes, depth)?);
        }
        Ok(out)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn blocks_nest_and_names_carry_positions() {
        let p = parse_bytes(
            Path::new("n.conf"),
            b"http {\n  server { listen 80; }\n}\n",
            Path::new("/"),
        )
        .unwrap();
        let http = &p.directives[0];
        assert_eq!(http.name, "http");
        let server = &http.children()[0];
        assert_eq!(server.pos, Pos { line: 2, col: 3 });
        assert_eq!(server.children()[0].arg_texts(), vec!["80"]);
    }

    #[test]
    fn unbalanced_braces_are_syntax_errors() {
        let e =
            parse_bytes(Path::new("n.conf"), b"server { listen 80;", Path::new("/")).unwrap_err();
        assert!(e.message.contains("expecting \"}\""), "{e}");
        let e = parse_bytes(Path::new("n.conf"), b"a;\n}", Path::new("/")).unwrap_err();
        assert_eq!(e.to_string(), "n.conf:2:1: unexpected \"}\"");
    }

    #[test]
    fn lua_blocks_are_kept_empty() {
        let p = parse_bytes(
            Path::new("n.conf"),
            b"location / { content_by_lua_block { ngx.say(\"}\") } }",
            Path::new("/"),
        )
        .unwrap();
        let lua = &p.directives[0].children()[0];
        assert_eq!(lua.name, "content_by_lua_block");
        assert!(lua.block.as_ref().is_some_and(Vec::is_empty));
    }

    #[test]
    fn deep_nesting_is_refused_without_overflowing() {
        let src = "a {".repeat(10_000);
        let e = parse_bytes(Path::new("n.conf"), src.as_bytes(), Path::new("/")).unwrap_err();
        assert!(e.message.contains("levels deep"));
    }

    #[test]
    fn includes_are_relative_to_the_prefix_sorted_and_globbed() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("conf.d")).unwrap();
        std::fs::write(dir.path().join("conf.d/b.conf"), "b;").unwrap();
        std::fs::write(dir.path().join("conf.d/a.conf"), "a;").unwrap();
        std::fs::write(dir.path().join("conf.d/c.txt"), "c;").unwrap();
        let main = dir.path().join("nginx.conf");
        std::fs::write(
            &main,
            "include conf.d/*.conf; include missing/*.conf; include gone.conf;",
        )
        .unwrap();
        let p = parse_file(&main, dir.path()).unwrap();
        let names: Vec<&str> = p.directives.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, vec!["a", "b"]);
        assert_eq!(p.files.len(), 3);
        assert_eq!(p.unreadable.len(), 1);
        assert!(p.unreadable[0].2.contains("gone.conf"));
    }

    #[test]
    fn include_loops_end_in_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let main = dir.path().join("nginx.conf");
        std::fs::write(&main, "include nginx.conf;").unwrap();
        let e = parse_file(&main, dir.path()).unwrap_err();
        assert!(
            e.message.contains("deep") || e.message.contains("loop"),
            "{e}"
        );
    }
}
