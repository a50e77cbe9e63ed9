//! The settlement document as a PDF laid out for A4: the same `Sheet` the page shows, in the
//! standard Helvetica with WinAnsi encoding (which holds the Italian accented letters and €),
//! so nothing is embedded or fetched; text is wrapped to the columns, pages break where a
//! block does not fit, and each page ends with its number.
//!
//! Invariant: every text of the sheet is written, in order; a character WinAnsi lacks is
//! written as the nearest it has (`≥` as `>=`) or `?`, never dropped.

use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

use crate::document::{Block, Sheet};
use crate::lang::Lang;

/// A4 in points.
pub const PAGE_WIDTH: f32 = 595.28;
pub const PAGE_HEIGHT: f32 = 841.89;
/// 20 mm.
const MARGIN: f32 = 56.7;
const BODY: f32 = 9.5;
const LEADING: f32 = 1.3;
/// Room kept at the foot of each page for its number.
const FOOTER: f32 = 24.0;

const REGULAR: Name<'static> = Name(b"F1");
const BOLD: Name<'static> = Name(b"F2");

/// Text as WinAnsi (Windows-1252) bytes.
pub fn winansi(text: &str) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(text.len());
    for c in text.chars() {
        match c {
            ' '..='~' => bytes.push(c as u8),
            '\u{a0}'..='\u{ff}' => bytes.push(u8::try_from(u32::from(c)).expect("Latin-1")),
            '€' => bytes.push(0x80),
            '‚' => bytes.push(0x82),
            '„' => bytes.push(0x84),
            '…' => bytes.push(0x85),
            '‘' => bytes.push(0x91),
            '’' => bytes.push(0x92),
            '“' => bytes.push(0x93),
            '”' => bytes.push(0x94),
            '•' => bytes.push(0x95),
            '–' => bytes.push(0x96),
            '—' => bytes.push(0x97),
            '≥' => bytes.extend_from_slice(b">="),
            '≤' => bytes.extend_from_slice(b"<="),
            '−' => bytes.push(b'-'),
            '\t' | '\n' => bytes.push(b' '),
            _ => bytes.push(b'?'),
        }
    }
    bytes
}

/// The width of `text` at `size`, from Helvetica's widths rounded up by class (narrow,
/// ordinary, capital, wide), so that wrapped text never overruns its column.
pub fn width(text: &str, size: f32, bold: bool) -> f32 {
    let ems: f32 = text
        .chars()
        .map(|c| match c {
            'i' | 'j' | 'l' | '.' | ',' | ';' | ':' | '\'' | '|' | '!' | ' ' | 'f' | 't' | 'I'
            | '(' | ')' | '[' | ']' | '/' | '-' => 0.34,
            'm' | 'w' | 'M' | 'W' | '@' | '%' => 0.89,
            'A'..='Z' | '€' | '&' => 0.72,
            _ => 0.56,
        })
        .sum();
    ems * size * if bold { 1.06 } else { 1.0 }
}

/// `text` broken into lines no wider than `max` (a word longer than a line is cut).
pub fn wrap(text: &str, max: f32, size: f32, bold: bool) -> Vec<String> {
    let mut lines = Vec::new();
    for paragraph in text.split('\n') {
        let mut line = String::new();
        for word in paragraph.split_whitespace() {
            let candidate = if line.is_empty() {
                word.to_owned()
            } else {
                format!("{line} {word}")
            };
            if width(&candidate, size, bold) <= max {
                line = candidate;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            let mut piece = String::new();
            for c in word.chars() {
                piece.push(c);
                if width(&piece, size, bold) > max {
                    piece.pop();
                    lines.push(std::mem::take(&mut piece));
                    piece.push(c);
                }
            }
            line = piece;
        }
        lines.push(line);
    }
    lines
}

/// What a page draws.
enum Op {
    Text {
        x: f32,
        y: f32,
        size: f32,
        bold: bool,
        text: String,
    },
    Rule {
        x1: f32,
        x2: f32,
        y: f32,
    },
    Frame {
        x: f32,
        y: f32,
        width: f32,
        height: f32,
    },
    Colour(f32, f32, f32),
}

struct Layout {
    pages: Vec<Vec<Op>>,
    /// The baseline of the next line, from the page's foot.
    y: f32,
}

impl Layout {
    fn new() -> Self {
        Self {
            pages: vec![Vec::new()],
            y: PAGE_HEIGHT - MARGIN,
        }
    }

    fn ops(&mut self) -> &mut Vec<Op> {
        self.pages.last_mut().expect("a page")
    }

    /// Starts a new page unless `height` more fits on this one.
    fn room(&mut self, height: f32) {
        if self.y - height < MARGIN + FOOTER {
            self.pages.push(Vec::new());
            self.y = PAGE_HEIGHT - MARGIN;
        }
    }

    fn text(&mut self, x: f32, size: f32, bold: bool, text: &str) {
        let y = self.y;
        self.ops().push(Op::Text {
            x,
            y,
            size,
            bold,
            text: text.to_owned(),
        });
    }

    /// Lines of text at `x`, each a line down.
    fn lines(&mut self, x: f32, size: f32, bold: bool, lines: &[String]) {
        for line in lines {
            self.room(size * LEADING);
            self.y -= size * LEADING;
            self.text(x, size, bold, line);
        }
    }

    fn paragraph(&mut self, text: &str, size: f32, bold: bool) {
        let lines = wrap(text, PAGE_WIDTH - 2.0 * MARGIN, size, bold);
        self.lines(MARGIN, size, bold, &lines);
        self.y -= size * 0.5;
    }

    /// A row of cells, each wrapped to its column; the row moves to a new page whole.
    fn row(&mut self, cells: &[(f32, f32, bool, bool, &str)], size: f32) {
        let wrapped: Vec<Vec<String>> = cells
            .iter()
            .map(|(_, width, bold, _, text)| wrap(text, width - 6.0, size, *bold))
            .collect();
        let count = wrapped.iter().map(Vec::len).max().unwrap_or(1);
        let height = count as f32 * size * LEADING + 4.0;
        self.room(height);
        let top = self.y;
        for ((x, width, bold, right, _), lines) in cells.iter().zip(&wrapped) {
            self.y = top;
            for line in lines {
                self.y -= size * LEADING;
                let at = if *right {
                    x + width - 3.0 - self::width(line, size, *bold)
                } else {
                    x + 3.0
                };
                self.text(at, size, *bold, line);
            }
        }
        self.y = top - height;
        let y = self.y + 1.0;
        self.ops().push(Op::Rule {
            x1: MARGIN,
            x2: PAGE_WIDTH - MARGIN,
            y,
        });
    }

    fn block(&mut self, block: &Block, lang: Lang) {
        let full = PAGE_WIDTH - 2.0 * MARGIN;
        match block {
            Block::Heading(text) => {
                self.room(40.0);
                self.y -= 10.0;
                self.paragraph(text, 12.0, true);
                let y = self.y + 3.0;
                self.ops().push(Op::Rule {
                    x1: MARGIN,
                    x2: PAGE_WIDTH - MARGIN,
                    y,
                });
                self.y -= 2.0;
            }
            Block::Paragraph(text) => self.paragraph(text, BODY, false),
            Block::Pairs(pairs) => {
                let label = 170.0;
                for (name, value) in pairs {
                    self.row(
                        &[
                            (MARGIN, label, true, false, name),
                            (MARGIN + label, full - label, false, false, value),
                        ],
                        BODY,
                    );
                }
                self.y -= 4.0;
            }
            Block::Table { columns, rows } => {
                let amounts = columns.iter().filter(|(_, amount)| *amount).count() as f32;
                let first_narrow = columns.len() > 2 && !columns[0].1;
                let narrow = if first_narrow { 34.0 } else { 0.0 };
                let others = columns.len() as f32 - amounts - if first_narrow { 1.0 } else { 0.0 };
                let amount_width = 88.0;
                let other_width = (full - amounts * amount_width - narrow) / others.max(1.0);
                let mut x = MARGIN;
                let mut geometry = Vec::with_capacity(columns.len());
                for (index, (_, amount)) in columns.iter().enumerate() {
                    let width = if *amount {
                        amount_width
                    } else if index == 0 && first_narrow {
                        narrow
                    } else if index == 1 && first_narrow && columns.len() == 4 && others >= 2.0 {
                        // The settlement's lines: the subject narrower than the arithmetic.
                        other_width * 0.7
                    } else if index == 2 && first_narrow && columns.len() == 4 && others >= 2.0 {
                        other_width * 1.3
                    } else {
                        other_width
                    };
                    geometry.push((x, width, *amount));
                    x += width;
                }
                let head: Vec<(f32, f32, bool, bool, &str)> = geometry
                    .iter()
                    .zip(columns)
                    .map(|((x, width, amount), (name, _))| {
                        (*x, *width, true, *amount, name.as_str())
                    })
                    .collect();
                self.row(&head, BODY);
                for row in rows {
                    let cells: Vec<(f32, f32, bool, bool, &str)> = geometry
                        .iter()
                        .zip(row)
                        .map(|((x, width, amount), text)| {
                            (*x, *width, false, *amount, text.as_str())
                        })
                        .collect();
                    self.row(&cells, BODY);
                }
                self.y -= 6.0;
            }
            Block::Signatures(blocks) => {
                let height = 120.0;
                self.room(height + 10.0);
                let gap = 20.0;
                let count = blocks.len().max(1) as f32;
                let box_width = (full - gap * (count - 1.0)) / count;
                let top = self.y - 6.0;
                for (index, (title, organisation)) in blocks.iter().enumerate() {
                    let x = MARGIN + index as f32 * (box_width + gap);
                    self.ops().push(Op::Frame {
                        x,
                        y: top - height,
                        width: box_width,
                        height,
                    });
                    self.y = top - 4.0;
                    let mut lines = wrap(title, box_width - 12.0, BODY, true);
                    lines.truncate(2);
                    self.lines(x + 6.0, BODY, true, &lines);
                    let mut lines = wrap(organisation, box_width - 12.0, BODY, false);
                    lines.truncate(2);
                    self.lines(x + 6.0, BODY, false, &lines);
                    for label in [
                        lang.t("document.sign_name"),
                        lang.t("document.sign_date"),
                        lang.t("document.sign_signature"),
                    ] {
                        self.y -= 10.0;
                        self.lines(
                            x + 6.0,
                            BODY,
                            false,
                            &[format!("{label}: ____________________")],
                        );
                    }
                }
                self.y = top - height - 8.0;
            }
        }
    }
}

/// The sheet as a PDF document.
pub fn write(sheet: &Sheet, lang: Lang) -> Vec<u8> {
    let mut layout = Layout::new();
    layout.paragraph(&sheet.authority, 11.0, true);
    layout.paragraph(&sheet.title, 15.0, true);
    // The status, large, in red while a draft and in green once final.
    layout.room(34.0);
    layout.y -= 26.0;
    let (r, g, b) = if sheet.is_final {
        (0.11, 0.37, 0.13)
    } else {
        (0.64, 0.0, 0.0)
    };
    let status_width = width(&sheet.status, 18.0, true) + 16.0;
    let y = layout.y;
    layout.ops().push(Op::Colour(r, g, b));
    layout.ops().push(Op::Frame {
        x: MARGIN,
        y: y - 7.0,
        width: status_width,
        height: 28.0,
    });
    layout.text(MARGIN + 8.0, 18.0, true, &sheet.status);
    layout.ops().push(Op::Colour(0.0, 0.0, 0.0));
    layout.y -= 14.0;
    for block in &sheet.blocks {
        layout.block(block, lang);
    }
    render(&layout.pages, sheet, lang)
}

fn render(pages: &[Vec<Op>], sheet: &Sheet, lang: Lang) -> Vec<u8> {
    let mut pdf = Pdf::new();
    let catalog = Ref::new(1);
    let tree = Ref::new(2);
    let regular = Ref::new(3);
    let bold = Ref::new(4);
    let info = Ref::new(5);
    let first = 6;
    let page_ids: Vec<Ref> = (0..pages.len())
        .map(|index| Ref::new(first + 2 * i32::try_from(index).expect("pages fit an i32")))
        .collect();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree)
        .kids(page_ids.iter().copied())
        .count(i32::try_from(pages.len()).expect("pages fit an i32"));
    for (font, name) in [(regular, &b"Helvetica"[..]), (bold, &b"Helvetica-Bold"[..])] {
        pdf.type1_font(font)
            .base_font(Name(name))
            .encoding_predefined(Name(b"WinAnsiEncoding"));
    }
    pdf.document_info(info)
        .title(TextStr(&sheet.title))
        .producer(TextStr("Esito"));
    let total = pages.len();
    for (index, (ops, page_id)) in pages.iter().zip(&page_ids).enumerate() {
        let content_id = Ref::new(page_id.get() + 1);
        let mut page = pdf.page(*page_id);
        page.media_box(Rect::new(0.0, 0.0, PAGE_WIDTH, PAGE_HEIGHT));
        page.parent(tree);
        page.contents(content_id);
        let mut resources = page.resources();
        resources.fonts().pair(REGULAR, regular).pair(BOLD, bold);
        resources.finish();
        page.finish();
        let mut content = Content::new();
        for op in ops {
            match op {
                Op::Text {
                    x,
                    y,
                    size,
                    bold,
                    text,
                } => {
                    content
                        .begin_text()
                        .set_font(if *bold { BOLD } else { REGULAR }, *size)
                        .next_line(*x, *y)
                        .show(Str(&winansi(text)))
                        .end_text();
                }
                Op::Rule { x1, x2, y } => {
                    content
                        .set_line_width(0.4)
                        .move_to(*x1, *y)
                        .line_to(*x2, *y)
                        .stroke();
                }
                Op::Frame {
                    x,
                    y,
                    width,
                    height,
                } => {
                    content
                        .set_line_width(1.2)
                        .rect(*x, *y, *width, *height)
                        .stroke();
                }
                Op::Colour(r, g, b) => {
                    content.set_fill_rgb(*r, *g, *b).set_stroke_rgb(*r, *g, *b);
                }
            }
        }
        let footer = format!(
            "{} · {} {} {} {}",
            sheet.title,
            lang.t("document.page"),
            index + 1,
            lang.t("document.of"),
            total
        );
        content
            .begin_text()
            .set_font(REGULAR, 8.0)
            .next_line(MARGIN, MARGIN / 2.0)
            .show(Str(&winansi(&footer)))
            .end_text();
        pdf.stream(content_id, &content.finish());
    }
    pdf.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn italian_letters_and_the_euro_are_winansi() {
        assert_eq!(winansi("1.234,00 €"), b"1.234,00 \x80".to_vec());
        assert_eq!(winansi("Città"), b"Citt\xe0".to_vec());
        assert_eq!(winansi("più – così"), b"pi\xf9 \x96 cos\xec".to_vec());
        assert_eq!(winansi("≥ 3"), b">= 3".to_vec());
        assert_eq!(winansi("漢"), b"?".to_vec());
    }

    #[test]
    fn wrapped_lines_fit_their_column_and_keep_every_word() {
        let text = "liquidazione del premio di risultato per il periodo 2024-Q1 (dal 01/01/2024 al 31/03/2024)";
        let lines = wrap(text, 150.0, BODY, false);
        assert!(lines.len() > 1);
        assert!(
            lines.iter().all(|line| width(line, BODY, false) <= 150.0),
            "{lines:?}"
        );
        assert_eq!(lines.join(" "), text);
        let hash = "ab".repeat(32);
        let cut = wrap(&hash, 100.0, BODY, false);
        assert!(cut.len() > 1);
        assert_eq!(cut.concat(), hash);
    }

    /// The text of every page, as a PDF reader extracts it.
    pub(crate) fn extracted(bytes: &[u8]) -> Vec<String> {
        let document = lopdf::Document::load_mem(bytes).expect("the PDF opens");
        let pages: Vec<u32> = document.get_pages().keys().copied().collect();
        pages
            .iter()
            .map(|page| document.extract_text(&[*page]).expect("a page's text"))
            .collect()
    }

    #[test]
    fn a_long_document_breaks_into_numbered_a4_pages() {
        let sheet = Sheet {
            authority: "Comune di Prova".into(),
            title: "Documento di liquidazione · 2024-Q1".into(),
            status: "BOZZA".into(),
            is_final: false,
            blocks: (0..200)
                .map(|n| Block::Paragraph(format!("Riga {n} · 1.234,00 €")))
                .collect(),
            totals: vec![],
        };
        let bytes = write(&sheet, Lang::It);
        assert!(bytes.starts_with(b"%PDF-"));
        assert!(
            String::from_utf8_lossy(&bytes).contains("/MediaBox [0 0 595.28 841.89]"),
            "A4"
        );
        let pages = extracted(&bytes);
        assert!(pages.len() >= 2, "{}", pages.len());
        for (index, text) in pages.iter().enumerate() {
            let footer = format!("Pagina {} di {}", index + 1, pages.len());
            assert!(text.contains(&footer), "{footer} in {text}");
        }
        let all = pages.concat();
        assert!(all.contains("BOZZA") && all.contains("Comune di Prova"));
        for n in 0..200 {
            assert!(all.contains(&format!("Riga {n} · 1.234,00 €")), "line {n}");
        }
    }
}
