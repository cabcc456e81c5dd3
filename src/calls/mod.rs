//! Calls: call flows, the call log with attribution, Twilio, CSV export, and signed
//! post-call webhooks (design §4).

pub mod export;
pub mod json;
pub mod model;
pub mod twilio;
pub mod webhook;

pub use model::{
    Call, CallFlow, CallSession, CallStatus, CallsRecord, CallsState, Delivery, DeliveryState,
    Webhook,
};
