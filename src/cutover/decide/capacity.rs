//! Capacity before weight (pure): can the `--to` stack's healthy targets carry the share of
//! production a step is about to give it? The `--from` stack's healthy targets carry the whole
//! production load now, so a share of P% needs at least ⌈P% × those targets⌉ healthy targets
//! behind `--to`. Target tracking reacts minutes after the load arrives; this check is before.

use std::fmt;

use super::Percent;

/// A step the `--to` group cannot carry, with the numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shortfall {
    /// The share about to be given.
    pub weight: Percent,
    /// Healthy targets behind `--to`.
    pub healthy: usize,
    /// Healthy targets behind `--from` (the fleet carrying production now).
    pub serving: usize,
    /// Healthy targets `--to` needs for the share.
    pub needed: usize,
}

impl fmt::Display for Shortfall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "it has {} healthy target(s), and at {}% it would carry the load that {} healthy target(s) carry now, so it needs at least {}",
            self.healthy,
            self.weight.get(),
            self.serving,
            self.needed
        )
    }
}

/// The healthy targets a share of `weight` needs when `serving` targets carry production now.
pub fn needed(weight: Percent, serving: usize) -> usize {
    (serving * usize::from(weight.get())).div_ceil(100)
}

/// `Err` when `healthy` targets cannot carry `weight` of what `serving` targets carry now.
pub fn check(weight: Percent, healthy: usize, serving: usize) -> Result<(), Shortfall> {
    let needed = needed(weight, serving);
    if healthy >= needed {
        Ok(())
    } else {
        Err(Shortfall {
            weight,
            healthy,
            serving,
            needed,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(n: u8) -> Percent {
        Percent::new(n).unwrap()
    }

    #[test]
    fn one_target_cannot_take_what_four_carry() {
        assert!(check(p(10), 1, 4).is_ok());
        assert!(check(p(25), 1, 4).is_ok());
        let s = check(p(50), 1, 4).unwrap_err();
        assert_eq!(s.needed, 2);
        let s = check(p(100), 1, 4).unwrap_err();
        assert_eq!(
            s.to_string(),
            "it has 1 healthy target(s), and at 100% it would carry the load that 4 healthy target(s) carry now, so it needs at least 4"
        );
    }

    #[test]
    fn equal_fleets_and_an_empty_old_fleet_pass() {
        assert!(check(p(100), 2, 2).is_ok());
        assert!(check(p(50), 1, 2).is_ok());
        assert!(check(p(100), 1, 0).is_ok());
        assert_eq!(
            needed(p(1), 3),
            1,
            "any share needs a target when something serves now"
        );
    }
}
