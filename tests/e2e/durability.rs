//! Turns that survive a killed bot and a dropped SSH link; /stop; many prompts at once.
