//! A settlement's statuses and steps as the screens show them, in two small tables keyed by the
//! API's strings: a new status or step (the RUP's `certified`, say) is one line here and its
//! labels in `labels.rs`.
//!
//! Invariant: whether a role may take a step is never decided here: a button is shown only
//! when the permission table allows the step's command (`Principal::check`) and the status is
//! one the step follows; the API decides again when the form is sent.

/// A status: the API's string, its label key, and whether its figures are final (approved and
/// after) rather than a draft.
pub struct Status {
    pub status: &'static str,
    pub label: &'static str,
    pub is_final: bool,
}

pub const STATUSES: &[Status] = &[
    Status {
        status: "calculated",
        label: "status.calculated",
        is_final: false,
    },
    Status {
        status: "validated",
        label: "status.validated",
        is_final: false,
    },
    Status {
        status: "certified",
        label: "status.certified",
        is_final: false,
    },
    Status {
        status: "approved",
        label: "status.approved",
        is_final: true,
    },
    Status {
        status: "paid",
        label: "status.paid",
        is_final: true,
    },
    Status {
        status: "withdrawn",
        label: "status.withdrawn",
        is_final: false,
    },
];

/// A field a step's form asks for: its name in the API's body, its label key, its input type.
pub struct Field {
    pub name: &'static str,
    pub label: &'static str,
    pub input: &'static str,
    pub required: bool,
}

/// A step: its path segment in the API (`POST .../settlements/{period}/{step}`), the statuses
/// it follows, its label key, whether it names the calculation it acts on (`as_of`), the
/// fields its form asks for, and the event that records it with the label of the column that
/// shows who took it and when.
pub struct Step {
    pub step: &'static str,
    pub after: &'static [&'static str],
    pub label: &'static str,
    pub names_as_of: bool,
    pub fields: &'static [Field],
    pub event: &'static str,
    pub column: &'static str,
}

pub const STEPS: &[Step] = &[
    Step {
        step: "validate",
        after: &["calculated"],
        label: "step.validate",
        names_as_of: true,
        fields: &[Field {
            name: "note",
            label: "field.note",
            input: "text",
            required: false,
        }],
        event: "SettlementValidated",
        column: "settlements.validated",
    },
    Step {
        step: "approve",
        after: &["validated"],
        label: "step.approve",
        names_as_of: true,
        fields: &[],
        event: "SettlementApproved",
        column: "settlements.approved",
    },
    Step {
        step: "pay",
        after: &["approved"],
        label: "step.pay",
        names_as_of: false,
        fields: &[
            Field {
                name: "paid_on",
                label: "field.paid_on",
                input: "date",
                required: true,
            },
            Field {
                name: "reference",
                label: "field.reference",
                input: "text",
                required: true,
            },
        ],
        event: "SettlementPaid",
        column: "settlements.paid",
    },
    Step {
        step: "withdraw",
        after: &["calculated"],
        label: "step.withdraw",
        names_as_of: true,
        fields: &[Field {
            name: "reason",
            label: "field.reason",
            input: "text",
            required: true,
        }],
        event: "SettlementWithdrawn",
        column: "status.withdrawn",
    },
];

/// The steps whose column the list of settlements shows (who took it and when).
pub const LIST_COLUMNS: &[&str] = &["validate", "approve", "pay"];

pub fn status(status: &str) -> Option<&'static Status> {
    STATUSES.iter().find(|known| known.status == status)
}

pub fn step(step: &str) -> Option<&'static Step> {
    STEPS.iter().find(|known| known.step == step)
}

/// Whether the figures of a settlement in `status` are final; an unknown status is a draft.
pub fn is_final(status: &str) -> bool {
    self::status(status).is_some_and(|known| known.is_final)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_and_step_has_its_labels() {
        for status in STATUSES {
            assert!(crate::labels::has(status.label), "{}", status.label);
        }
        for step in STEPS {
            assert!(crate::labels::has(step.label), "{}", step.label);
            assert!(crate::labels::has(step.column), "{}", step.column);
            for field in step.fields {
                assert!(crate::labels::has(field.label), "{}", field.label);
            }
            for after in step.after {
                assert!(
                    status(after).is_some(),
                    "{} follows an unknown status {after}",
                    step.step
                );
            }
        }
    }

    #[test]
    fn every_step_the_api_takes_has_a_line_and_every_line_a_step_of_the_api() {
        for step in STEPS {
            assert!(
                esito_api::screens::step_command(step.step).is_some(),
                "the API takes no step `{}`",
                step.step
            );
        }
    }

    #[test]
    fn only_approved_and_paid_are_final() {
        assert!(!is_final("calculated"));
        assert!(!is_final("validated"));
        assert!(is_final("approved"));
        assert!(is_final("paid"));
        assert!(!is_final("something new"));
    }
}
