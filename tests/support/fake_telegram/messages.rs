//! The message methods: sendMessage, editMessageText, sendDocument,
//! sendPhoto, deleteMessage, sendChatAction. Each validates what the Bot API
//! server itself checks (text, entities, file), then asks the rate limiter,
//! then does what needs "Telegram's servers" (topic, reply, message lookup).

use bytes::Bytes;
use serde_json::json;

use super::buttons;
use super::methods::{ApiError, Cx, Reply};
use super::params::{FileParam, Params, Upload};
use super::state::{Attachment, Formatted, Sender, StoredFile};
use crate::support::telegram_html::{self, Entity, Parsed, utf16_len};

/// Telegram's limits on visible text, in UTF-16 code units.
const MAX_MESSAGE_LEN: usize = 4096;
const MAX_CAPTION_LEN: usize = 1024;

#[derive(Clone, Copy, PartialEq, Eq)]
enum TextUse {
    Message,
    Edit,
    Caption,
}

/// Parses, trims and measures a text or caption the way the Bot API does.
/// `Ok(None)` only for an absent caption.
fn format_text(
    p: &Params,
    text_key: &str,
    entities_key: &str,
    usage: TextUse,
) -> Result<Option<Formatted>, ApiError> {
    if p.json(entities_key)?.is_some() {
        return Err(ApiError::bad_request(&format!(
            "the fake Telegram server does not implement {entities_key}; use parse_mode HTML"
        )));
    }
    let raw = p.string(text_key)?.unwrap_or_default();
    let parse_mode = p.string("parse_mode")?.unwrap_or_default();
    let (parsed, html) = match parse_mode.to_ascii_lowercase().as_str() {
        "" => (
            Parsed {
                text: raw,
                entities: Vec::new(),
            },
            None,
        ),
        "html" => match telegram_html::parse(&raw) {
            Ok(parsed) => (parsed, Some(raw)),
            Err(e) => return Err(ApiError::bad_request(&format!("can't parse entities: {e}"))),
        },
        "markdown" | "markdownv2" => {
            return Err(ApiError::bad_request(
                "the fake Telegram server implements only parse_mode HTML",
            ));
        }
        _ => return Err(ApiError::bad_request("unsupported parse_mode")),
    };
    let parsed = trim(parsed);
    let len = utf16_len(&parsed.text);
    match usage {
        TextUse::Caption if len == 0 => return Ok(None),
        TextUse::Message | TextUse::Edit if len == 0 => {
            return Err(ApiError::bad_request("message text is empty"));
        }
        TextUse::Message if len > MAX_MESSAGE_LEN => {
            return Err(ApiError::bad_request("message is too long"));
        }
        TextUse::Edit if len > MAX_MESSAGE_LEN => {
            return Err(ApiError::bad_request("MESSAGE_TOO_LONG"));
        }
        TextUse::Caption if len > MAX_CAPTION_LEN => {
            return Err(ApiError::bad_request("message caption is too long"));
        }
        _ => {}
    }
    Ok(Some(Formatted {
        text: parsed.text,
        entities: parsed.entities,
        html,
    }))
}

/// Telegram strips leading and trailing whitespace from messages; entities
/// are clipped to what remains.
fn trim(parsed: Parsed) -> Parsed {
    let is_space = |c: char| matches!(c, ' ' | '\t' | '\n' | '\r');
    let trimmed_start = parsed.text.trim_start_matches(is_space);
    let lead = utf16_len(&parsed.text[..parsed.text.len() - trimmed_start.len()]);
    let text = trimmed_start.trim_end_matches(is_space).to_string();
    let len = utf16_len(&text);
    let entities = parsed
        .entities
        .into_iter()
        .filter_map(|e| {
            let start = e.offset_utf16.max(lead) - lead;
            let end = (e.offset_utf16 + e.length_utf16)
                .min(lead + len)
                .saturating_sub(lead);
            (end > start).then(|| Entity {
                offset_utf16: start,
                length_utf16: end - start,
                ..e
            })
        })
        .collect();
    Parsed { text, entities }
}

/// A test asked for this chat's next HTML text to be refused, as Telegram refuses markup it
/// cannot parse.
fn forced_markup_rejection(cx: &mut Cx, p: &Params, chat_id: i64) -> Result<(), ApiError> {
    let html = p
        .string("parse_mode")?
        .is_some_and(|m| m.eq_ignore_ascii_case("html"));
    if html && cx.st.take_markup_rejection(chat_id) {
        return Err(ApiError::bad_request(
            "can't parse entities: Unsupported start tag \"x\" at byte offset 0",
        ));
    }
    Ok(())
}

pub(super) fn send_message(cx: &mut Cx, p: &Params) -> Reply {
    let chat_id = cx.chat_id(p)?;
    forced_markup_rejection(cx, p, chat_id)?;
    let text = format_text(p, "text", "entities", TextUse::Message)?;
    let keyboard = buttons::keyboard(p)?;
    cx.admit(chat_id)?;
    let placement = cx.placement(chat_id, p)?;
    let posted = cx.post(chat_id, placement, text, None);
    let id = posted["message_id"].as_i64().expect("a message id") as i32;
    cx.st
        .chat_mut(chat_id)
        .messages
        .get_mut(&id)
        .expect("just posted")
        .keyboard = keyboard;
    Ok(cx.render(chat_id, id).into())
}

pub(super) fn edit_message_text(cx: &mut Cx, p: &Params) -> Reply {
    if p.string("inline_message_id")?.is_some() {
        return Err(ApiError::bad_request(
            "the fake Telegram server does not implement inline messages",
        ));
    }
    let chat_id = cx.chat_id(p)?;
    let message_id = Cx::message_id(p)?;
    forced_markup_rejection(cx, p, chat_id)?;
    let formatted =
        format_text(p, "text", "entities", TextUse::Edit)?.expect("edits always carry text");
    // Telegram keeps no keyboard an edit does not name.
    let keyboard = buttons::keyboard(p)?;
    cx.admit(chat_id)?;
    let at = cx.at;
    let chat = cx.st.chat_mut(chat_id);
    let Some(msg) = chat.messages.get_mut(&message_id).filter(|m| !m.deleted) else {
        return Err(ApiError::bad_request("message to edit not found"));
    };
    if msg.sender != Sender::Bot {
        return Err(ApiError::bad_request("message can't be edited"));
    }
    if msg.attachment.is_some() || msg.topic_created.is_some() {
        return Err(ApiError::bad_request(
            "there is no text in the message to edit",
        ));
    }
    if let Some(current) = &msg.text
        && current.text == formatted.text
        && current.entities == formatted.entities
        && msg.keyboard == keyboard
    {
        return Err(ApiError::bad_request(
            "message is not modified: specified new message content and reply markup are \
             exactly the same as a current content and reply markup of the message",
        ));
    }
    msg.edit(formatted, at);
    msg.keyboard = keyboard;
    Ok(cx.render(chat_id, message_id).into())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum FileKind {
    Document,
    Photo,
}

pub(super) fn send_document(cx: &mut Cx, p: &Params) -> Reply {
    send_file(cx, p, FileKind::Document)
}

pub(super) fn send_photo(cx: &mut Cx, p: &Params) -> Reply {
    send_file(cx, p, FileKind::Photo)
}

fn send_file(cx: &mut Cx, p: &Params, kind: FileKind) -> Reply {
    let chat_id = cx.chat_id(p)?;
    let key = match kind {
        FileKind::Document => "document",
        FileKind::Photo => "photo",
    };
    let file = match p.file(key)? {
        None => {
            return Err(ApiError::bad_request(&format!(
                "there is no {key} in the request"
            )));
        }
        Some(FileParam::Reference(id)) => match cx.st.files.get(&id) {
            Some(stored) => IncomingFile::Known(stored.clone()),
            None => {
                return Err(ApiError::bad_request(
                    "wrong file identifier/HTTP URL specified",
                ));
            }
        },
        Some(FileParam::Upload(upload)) => IncomingFile::New(check_upload(upload, kind)?),
    };
    let caption = format_text(p, "caption", "caption_entities", TextUse::Caption)?;
    cx.admit(chat_id)?;
    let placement = cx.placement(chat_id, p)?;
    let stored = match file {
        IncomingFile::Known(stored) => stored,
        IncomingFile::New(new) => {
            cx.st
                .new_file(new.file_name, new.mime_type, new.bytes, new.dimensions)
        }
    };
    let attachment = match kind {
        FileKind::Document => Attachment::Document(stored),
        FileKind::Photo => Attachment::Photo(stored),
    };
    Ok(cx
        .post(chat_id, placement, caption, Some(attachment))
        .into())
}

/// A file parameter: a `file_id` the fake issued earlier, or a new upload.
enum IncomingFile {
    Known(StoredFile),
    New(CheckedUpload),
}

struct CheckedUpload {
    bytes: Bytes,
    file_name: String,
    mime_type: String,
    dimensions: Option<(u32, u32)>,
}

/// Validates an uploaded file before anything is stored: its name, MIME type
/// and, for photos, pixel size.
fn check_upload(upload: Upload, kind: FileKind) -> Result<CheckedUpload, ApiError> {
    if upload.bytes.is_empty() {
        return Err(ApiError::bad_request("file must be non-empty"));
    }
    let file_name = upload
        .file_name
        .clone()
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| match kind {
            FileKind::Document => "document".to_string(),
            FileKind::Photo => "photo.jpg".to_string(),
        });
    let mime_type = mime_for(&file_name, upload.content_type.as_deref());
    let dimensions = match kind {
        FileKind::Document => None,
        FileKind::Photo => Some(
            image_size(&upload.bytes)
                .ok_or_else(|| ApiError::bad_request("IMAGE_PROCESS_FAILED"))?,
        ),
    };
    Ok(CheckedUpload {
        bytes: upload.bytes,
        file_name,
        mime_type,
        dimensions,
    })
}

/// Telegram derives a document's MIME type mostly from its extension.
pub(super) fn mime_for(file_name: &str, part_type: Option<&str>) -> String {
    let ext = file_name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    let known = match ext.as_str() {
        "txt" | "log" => "text/plain",
        "md" => "text/markdown",
        "diff" | "patch" => "text/x-diff",
        "html" | "htm" => "text/html",
        "csv" => "text/csv",
        "json" => "application/json",
        "pdf" => "application/pdf",
        "zip" => "application/zip",
        "gz" => "application/gzip",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        _ => "",
    };
    if !known.is_empty() {
        return known.to_string();
    }
    part_type
        .filter(|t| !t.is_empty())
        .unwrap_or("application/octet-stream")
        .to_string()
}

/// Width and height of a PNG or JPEG; `None` for anything else, which
/// Telegram would fail to process as a photo.
pub(super) fn image_size(bytes: &[u8]) -> Option<(u32, u32)> {
    let be32 = |at: usize| Some(u32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?));
    let be16 = |at: usize| {
        Some(u32::from(u16::from_be_bytes(
            bytes.get(at..at + 2)?.try_into().ok()?,
        )))
    };
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Some((be32(16)?, be32(20)?)).filter(|(w, h)| *w > 0 && *h > 0);
    }
    if bytes.starts_with(&[0xFF, 0xD8]) {
        let mut i = 2;
        while i + 9 <= bytes.len() {
            if bytes[i] != 0xFF {
                return None;
            }
            let marker = bytes[i + 1];
            if marker == 0xFF {
                i += 1;
                continue;
            }
            let is_frame = (0xC0..=0xCF).contains(&marker) && !matches!(marker, 0xC4 | 0xC8 | 0xCC);
            if is_frame {
                return Some((be16(i + 7)?, be16(i + 5)?)).filter(|(w, h)| *w > 0 && *h > 0);
            }
            i += 2 + be16(i + 2)? as usize;
        }
    }
    None
}

pub(super) fn delete_message(cx: &mut Cx, p: &Params) -> Reply {
    let chat_id = cx.chat_id(p)?;
    let message_id = Cx::message_id(p)?;
    cx.admit(chat_id)?;
    let chat = cx.st.chat_mut(chat_id);
    let Some(msg) = chat.messages.get_mut(&message_id).filter(|m| !m.deleted) else {
        return Err(ApiError::bad_request("message to delete not found"));
    };
    if msg.topic_created.is_some() {
        return Err(ApiError::bad_request("message can't be deleted"));
    }
    msg.deleted = true;
    Ok(json!(true).into())
}

const CHAT_ACTIONS: &[&str] = &[
    "typing",
    "upload_photo",
    "record_video",
    "upload_video",
    "record_voice",
    "upload_voice",
    "upload_document",
    "choose_sticker",
    "find_location",
    "record_video_note",
    "upload_video_note",
];

pub(super) fn send_chat_action(cx: &mut Cx, p: &Params) -> Reply {
    let chat_id = cx.chat_id(p)?;
    let action = p.string("action")?.unwrap_or_default();
    if !CHAT_ACTIONS.contains(&action.as_str()) {
        return Err(ApiError::bad_request("wrong parameter action in request"));
    }
    cx.placement(chat_id, p)?;
    Ok(json!(true).into())
}

/// Where a command list lives: its scope plus language code.
#[cfg(test)]
mod tests {
    use super::*;
    use crate::support::telegram_html::EntityKind;

    #[test]
    fn trimming_clips_entities() {
        let parsed = telegram_html::parse("\n <b> hi</b> <i>x </i>\n").unwrap();
        let t = trim(parsed);
        assert_eq!(t.text, "hi x");
        let spans: Vec<_> = t
            .entities
            .iter()
            .map(|e| (e.kind, e.offset_utf16, e.length_utf16))
            .collect();
        assert_eq!(
            spans,
            vec![(EntityKind::Bold, 0, 2), (EntityKind::Italic, 3, 1)]
        );
        assert_eq!(
            trim(telegram_html::parse("<b> </b>").unwrap()).entities,
            vec![]
        );
    }

    #[test]
    fn image_sizes() {
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        png.extend_from_slice(&[0, 0, 1, 0, 0, 0, 0, 200]);
        assert_eq!(image_size(&png), Some((256, 200)));
        // SOI, an APP0 segment, then SOF0 with height 3, width 5.
        let jpeg = [
            0xFF, 0xD8, 0xFF, 0xE0, 0, 4, 0, 0, 0xFF, 0xC0, 0, 11, 8, 0, 3, 0, 5, 1, 1, 0x11, 0,
        ];
        assert_eq!(image_size(&jpeg), Some((5, 3)));
        assert_eq!(image_size(b"GIF89a"), None);
    }

    #[test]
    fn mime_types() {
        assert_eq!(mime_for("turn-7.diff", None), "text/x-diff");
        assert_eq!(mime_for("README.MD", None), "text/markdown");
        assert_eq!(mime_for("blob", Some("image/webp")), "image/webp");
        assert_eq!(mime_for("blob", None), "application/octet-stream");
    }
}
