use super::*;

const CAPACITY: usize = 16;

fn live() -> Memory {
    let kept = Memory::default();
    kept.set_live(true);
    kept
}

#[test]
fn an_answer_is_kept_until_something_changes() {
    let kept = live();
    let answers = Answers::<i64, &str, 8>::default();
    kept.put(&answers, kept.ticket(), 1, "one");
    assert_eq!(kept.get(&answers, &1), Some("one"));
    assert_eq!(kept.get(&answers, &2), None);
    kept.changed();
    assert_eq!(kept.get(&answers, &1), None);
    kept.put(&answers, kept.ticket(), 1, "one again");
    assert_eq!(kept.get(&answers, &1), Some("one again"));
}

#[test]
fn a_read_that_began_before_a_change_keeps_nothing() {
    let kept = live();
    let answers = Answers::<i64, &str, 8>::default();
    let ticket = kept.ticket();
    kept.changed();
    kept.put(&answers, ticket, 1, "read before the change");
    assert_eq!(kept.get(&answers, &1), None);
}

#[test]
fn nothing_is_kept_or_served_while_not_listening() {
    let kept = Memory::default();
    let answers = Answers::<i64, &str, 8>::default();
    kept.put(&answers, kept.ticket(), 1, "one");
    assert_eq!(kept.get(&answers, &1), None);

    let kept = live();
    kept.put(&answers, kept.ticket(), 1, "one");
    let ticket = kept.ticket();
    kept.set_live(false);
    assert_eq!(kept.get(&answers, &1), None);
    kept.put(&answers, ticket, 2, "two");
    kept.put(&answers, kept.ticket(), 3, "three");
    // Listening again does not bring back what was kept before the gap.
    kept.set_live(true);
    for key in 1..=3 {
        assert_eq!(kept.get(&answers, &key), None);
    }
}

#[test]
fn answers_expire() {
    let kept = live();
    let answers = Answers::<i64, &str, 8>::default();
    kept.put(&answers, kept.ticket(), 1, "one");
    if let Ok(mut map) = answers.map.lock()
        && let Some(entry) = map.get_mut(&1)
        && let Some(then) = entry.1.checked_sub(KEEP_FOR)
    {
        entry.1 = then;
    }
    assert_eq!(kept.get(&answers, &1), None);
}

#[test]
fn a_full_map_drops_what_it_cannot_serve_first() {
    let kept = live();
    let answers = Answers::<usize, usize, CAPACITY>::default();
    for key in 0..CAPACITY / 2 {
        kept.put(&answers, kept.ticket(), key, key);
    }
    kept.changed();
    for key in CAPACITY / 2..CAPACITY + 1 {
        kept.put(&answers, kept.ticket(), key, key);
    }
    assert_eq!(
        answers.map.lock().map(|m| m.len()).ok(),
        Some(CAPACITY / 2 + 1)
    );
    assert_eq!(kept.get(&answers, &(CAPACITY / 2)), Some(CAPACITY / 2));
}

#[test]
fn a_full_map_starts_over() {
    let kept = live();
    let answers = Answers::<usize, usize, CAPACITY>::default();
    for key in 0..CAPACITY {
        kept.put(&answers, kept.ticket(), key, key);
    }
    assert_eq!(kept.get(&answers, &0), Some(0));
    kept.put(&answers, kept.ticket(), 0, 10);
    assert_eq!(
        kept.get(&answers, &1),
        Some(1),
        "a kept key is replaced in place"
    );
    kept.put(&answers, kept.ticket(), CAPACITY, CAPACITY);
    assert_eq!(kept.get(&answers, &1), None);
    assert_eq!(kept.get(&answers, &CAPACITY), Some(CAPACITY));
    assert_eq!(answers.map.lock().map(|m| m.len()).ok(), Some(1));
}
