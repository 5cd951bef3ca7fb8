//! Stored images and their resized variants: how a variant's key follows from its
//! original's, so that pages, the media stores and the access checks agree on it
//! without storing anything more.
//!
//! An original `products/3f9a….png` has `products/3f9a…-96.jpg` and `…-192.jpg` (square,
//! for cards at 96 CSS pixels on ordinary and on 2× screens) and `…-768.jpg` (768 pixels
//! on the long side, for a product's page). The original stays as it was uploaded.

/// A resized copy of a stored image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Variant {
    /// 96×96, cropped to the square a card shows.
    Thumb,
    /// 192×192, the same for 2× screens.
    Thumb2x,
    /// At most 768 pixels on the long side, not cropped.
    Large,
}

impl Variant {
    pub const ALL: [Variant; 3] = [Self::Thumb, Self::Thumb2x, Self::Large];

    /// The length of the square's side, or of the long side.
    pub fn size(self) -> u32 {
        match self {
            Self::Thumb => 96,
            Self::Thumb2x => 192,
            Self::Large => 768,
        }
    }

    /// Whether the image is cropped to a square of [`Variant::size`].
    pub fn square(self) -> bool {
        !matches!(self, Self::Large)
    }

    fn suffix(self) -> &'static str {
        match self {
            Self::Thumb => "-96",
            Self::Thumb2x => "-192",
            Self::Large => "-768",
        }
    }

    /// The key of this variant of the image stored under `original` (`folder/name.ext`);
    /// variants are JPEG.
    pub fn key(self, original: &str) -> String {
        let stem = original.rsplit_once('.').map_or(original, |(stem, _)| stem);
        format!("{stem}{}.jpg", self.suffix())
    }

    /// The variant `key` names and the keys its original may have (it was stored as
    /// PNG or JPEG); `None` for a key that is not a variant's.
    pub fn of_key(key: &str) -> Option<(Variant, [String; 2])> {
        let stem = key.strip_suffix(".jpg")?;
        Self::ALL.into_iter().find_map(|v| {
            let original = stem.strip_suffix(v.suffix())?;
            // An original's name never has a dash (it is hexadecimal).
            (!original.contains('-'))
                .then(|| (v, [format!("{original}.png"), format!("{original}.jpg")]))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_variant_key_follows_from_its_original_and_back() {
        for original in ["products/ab12cd.png", "avatars/ab12cd.jpg"] {
            for v in Variant::ALL {
                let key = v.key(original);
                assert!(key.ends_with(".jpg"));
                let (found, candidates) = Variant::of_key(&key).unwrap_or_else(|| panic!("{key}"));
                assert_eq!(found, v);
                assert!(candidates.iter().any(|c| c == original));
            }
            assert_eq!(Variant::of_key(original), None);
        }
        assert_eq!(Variant::of_key("products/a-b-96.jpg"), None);
        assert_eq!(Variant::of_key("products/ab-97.jpg"), None);
    }
}
