//! Skill dimensions that scenarios exercise and heatmaps report.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A skill dimension of selling, from the fixed default list.
///
/// Heatmaps may be configured with other dimension names; those are plain
/// strings there. Scenario files use these ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    /// Finding out what the customer needs and why.
    NeedsDiscovery,
    /// Stating the value in the customer's terms.
    ValueStatement,
    /// Showing that the solution fits the customer's case.
    SolutionFit,
    /// Answering objections without losing the deal.
    ObjectionHandling,
    /// Working with several decision makers and their concerns.
    MultiStakeholderNavigation,
    /// Naming and defusing risks before the customer does.
    RiskAnticipation,
    /// Asking for the next step and the commitment.
    Closing,
}

/// Error for a dimension id that is not in the fixed list.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown skill dimension {0:?}: expected one of {list}", list = Dimension::ids().join(", "))]
pub struct UnknownDimension(pub String);

impl Dimension {
    /// Every dimension in report order.
    pub const ALL: [Dimension; 7] = [
        Dimension::NeedsDiscovery,
        Dimension::ValueStatement,
        Dimension::SolutionFit,
        Dimension::ObjectionHandling,
        Dimension::MultiStakeholderNavigation,
        Dimension::RiskAnticipation,
        Dimension::Closing,
    ];

    /// Returns the snake_case id used in files and JSON.
    pub fn id(self) -> &'static str {
        match self {
            Dimension::NeedsDiscovery => "needs_discovery",
            Dimension::ValueStatement => "value_statement",
            Dimension::SolutionFit => "solution_fit",
            Dimension::ObjectionHandling => "objection_handling",
            Dimension::MultiStakeholderNavigation => "multi_stakeholder_navigation",
            Dimension::RiskAnticipation => "risk_anticipation",
            Dimension::Closing => "closing",
        }
    }

    /// Returns the English label for reports.
    pub fn label_en(self) -> &'static str {
        match self {
            Dimension::NeedsDiscovery => "Needs discovery",
            Dimension::ValueStatement => "Value statement",
            Dimension::SolutionFit => "Solution fit",
            Dimension::ObjectionHandling => "Objection handling",
            Dimension::MultiStakeholderNavigation => "Multi-stakeholder navigation",
            Dimension::RiskAnticipation => "Risk anticipation",
            Dimension::Closing => "Closing",
        }
    }

    /// Returns the Mandarin label for reports.
    pub fn label_zh(self) -> &'static str {
        match self {
            Dimension::NeedsDiscovery => "需求挖掘",
            Dimension::ValueStatement => "价值陈述",
            Dimension::SolutionFit => "方案匹配",
            Dimension::ObjectionHandling => "异议处理",
            Dimension::MultiStakeholderNavigation => "多方决策协调",
            Dimension::RiskAnticipation => "风险预判",
            Dimension::Closing => "推进成交",
        }
    }

    fn ids() -> Vec<&'static str> {
        Self::ALL.iter().map(|d| d.id()).collect()
    }
}

impl FromStr for Dimension {
    type Err = UnknownDimension;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|d| d.id() == s)
            .ok_or_else(|| UnknownDimension(s.to_string()))
    }
}

impl fmt::Display for Dimension {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip() {
        for dimension in Dimension::ALL {
            assert_eq!(dimension.id().parse::<Dimension>(), Ok(dimension));
        }
    }

    #[test]
    fn unknown_id_lists_valid_ones() {
        let err = "charm".parse::<Dimension>().unwrap_err();
        assert!(err.to_string().contains("needs_discovery"));
    }
}
