//! One stable sort for the crate.

/// Sorts `items` by `key`, equal keys kept in their order, as `slice::sort_by_key` does. Each
/// `sort_by_key` call with its own closure is its own copy of std's driftsort (2.5-3.5 KB of
/// wasm each, four of them in the browser's engine); every caller of this one shares a
/// single unstable sort of `(key, index)` pairs, the index making it stable.
pub(crate) fn sort_by_key<T>(items: &mut Vec<T>, key: impl Fn(&T) -> u64) {
    let mut order: Vec<(u64, usize)> = items.iter().map(key).zip(0..).collect();
    order.sort_unstable();
    let mut slots: Vec<Option<T>> = items.drain(..).map(Some).collect();
    items.extend(order.iter().filter_map(|&(_, at)| slots[at].take()));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_by_key_and_keeps_ties_in_order() {
        let mut v = vec![(3, 'a'), (1, 'b'), (3, 'c'), (0, 'd'), (1, 'e'), (3, 'f')];
        let mut std_sorted = v.clone();
        std_sorted.sort_by_key(|p| p.0);
        sort_by_key(&mut v, |p| p.0);
        assert_eq!(v, std_sorted);
        let mut empty: Vec<(u64, char)> = Vec::new();
        sort_by_key(&mut empty, |p| p.0);
        assert!(empty.is_empty());
    }
}
