//! The names of a spec's fields, read off its serde `Deserialize` so they can never disagree
//! with what a declaration may say (the docs table of kinds and the diff use them).

use serde::de::DeserializeOwned;

/// The names of a spec's fields, as serde knows them (read off its `Deserialize`, so they can
/// never disagree with what the declaration may say).
pub fn spec_fields<S: DeserializeOwned>() -> &'static [&'static str] {
    let mut capture = FieldCapture(None);
    let _ = S::deserialize(&mut capture);
    capture.0.unwrap_or(&[])
}

/// A deserializer that only notes the field list a struct asks for.
struct FieldCapture(Option<&'static [&'static str]>);

#[derive(Debug)]
struct Captured;

impl std::fmt::Display for Captured {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("field names captured")
    }
}

impl std::error::Error for Captured {}

impl serde::de::Error for Captured {
    fn custom<T: std::fmt::Display>(_: T) -> Self {
        Captured
    }
}

impl<'de> serde::Deserializer<'de> for &mut FieldCapture {
    type Error = Captured;

    fn deserialize_any<V: serde::de::Visitor<'de>>(self, _: V) -> Result<V::Value, Captured> {
        Err(Captured)
    }

    fn deserialize_struct<V: serde::de::Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Captured> {
        self.0 = Some(fields);
        Err(Captured)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}
