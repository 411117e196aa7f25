//! The two parties' roles.

use serde::{Deserialize, Serialize};

/// Which of the two parties this is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// P0: holds the model weights.
    Server,
    /// P1: holds the input.
    Client,
}

impl Role {
    /// Both roles, server first.
    pub const BOTH: [Role; 2] = [Role::Server, Role::Client];

    /// The other party.
    pub const fn peer(self) -> Role {
        match self {
            Role::Server => Role::Client,
            Role::Client => Role::Server,
        }
    }

    /// 0 for the server, 1 for the client.
    pub const fn index(self) -> usize {
        match self {
            Role::Server => 0,
            Role::Client => 1,
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Role::Server => "server (P0)",
            Role::Client => "client (P1)",
        })
    }
}
