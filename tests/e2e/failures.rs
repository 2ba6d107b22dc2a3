//! Every failure is told plainly and leaves the session in the right state.
