//! The audit action names of sign-in, sessions, users and approvals.
//!
//! Kept beside the services that record them; every name is
//! `<area>.<object>.<event>` or `<area>.<event>`, lowercase, stable once
//! released, since audit readers search by it.

/// A person signed in.
pub const LOGIN_SUCCEEDED: &str = "auth.login.succeeded";
/// A sign-in failed (unknown user, wrong password, wrong code, disabled).
pub const LOGIN_FAILED: &str = "auth.login.failed";
/// Failed sign-ins locked a user or a source address.
pub const LOGIN_LOCKED: &str = "auth.login.locked";
/// A person changed their password.
pub const PASSWORD_CHANGED: &str = "auth.password.changed";
/// A person began TOTP enrolment.
pub const MFA_ENROLMENT_STARTED: &str = "auth.mfa.enrolment_started";
/// A person confirmed TOTP enrolment and received recovery codes.
pub const MFA_ENROLLED: &str = "auth.mfa.enrolled";
/// An administrator removed a person's second factor.
pub const MFA_RESET: &str = "auth.mfa.reset";
/// A recovery code was spent to sign in.
pub const RECOVERY_CODE_USED: &str = "auth.recovery_code.used";
/// A refresh token was exchanged for a new one.
pub const REFRESH_ROTATED: &str = "auth.refresh.rotated";
/// A refresh token already rotated came back: its family is revoked.
pub const REFRESH_REUSED: &str = "auth.refresh.reused";
/// A refresh token was refused (unknown, expired, revoked).
pub const REFRESH_REFUSED: &str = "auth.refresh.refused";
/// A token or a session was revoked.
pub const TOKEN_REVOKED: &str = "auth.token.revoked";
/// A client authenticated to introspect a token.
pub const TOKEN_INTROSPECTED: &str = "auth.token.introspected";
/// A person signed out.
pub const LOGGED_OUT: &str = "auth.logout";
/// A user was created.
pub const USER_CREATED: &str = "user.created";
/// A user's roles or accounts changed.
pub const USER_UPDATED: &str = "user.updated";
/// A user was disabled, and their sessions cut off.
pub const USER_DISABLED: &str = "user.disabled";
/// A change was proposed for a second person's approval.
pub const APPROVAL_PROPOSED: &str = "approval.proposed";
/// A proposal was approved.
pub const APPROVAL_APPROVED: &str = "approval.approved";
/// A proposal was rejected.
pub const APPROVAL_REJECTED: &str = "approval.rejected";
/// A decision on a proposal was refused (self-approval, closed).
pub const APPROVAL_REFUSED: &str = "approval.refused";
/// An approved role grant was applied.
pub const ROLE_GRANTED: &str = "user.role.granted";
/// A person set their own password with a set-up token.
pub const SETUP_COMPLETED: &str = "auth.setup.completed";
/// An administrator reset a person's password: a new set-up token, sessions ended.
pub const PASSWORD_RESET: &str = "auth.password.reset";
/// A set-up token reached its person's pickup file or mailbox (the token is not recorded).
pub const SETUP_DELIVERED: &str = "auth.setup.delivered";
/// A set-up token could not be delivered and was withdrawn.
pub const SETUP_UNDELIVERED: &str = "auth.setup.undelivered";
/// An approved reset issued no set-up token: its person had been disabled meanwhile.
pub const SETUP_WITHHELD: &str = "auth.setup.withheld";

/// Every name above.
pub const ALL: [&str; 27] = [
    LOGIN_SUCCEEDED,
    LOGIN_FAILED,
    LOGIN_LOCKED,
    PASSWORD_CHANGED,
    MFA_ENROLMENT_STARTED,
    MFA_ENROLLED,
    MFA_RESET,
    RECOVERY_CODE_USED,
    REFRESH_ROTATED,
    REFRESH_REUSED,
    REFRESH_REFUSED,
    TOKEN_REVOKED,
    TOKEN_INTROSPECTED,
    LOGGED_OUT,
    USER_CREATED,
    USER_UPDATED,
    USER_DISABLED,
    APPROVAL_PROPOSED,
    APPROVAL_APPROVED,
    APPROVAL_REJECTED,
    APPROVAL_REFUSED,
    ROLE_GRANTED,
    SETUP_COMPLETED,
    PASSWORD_RESET,
    SETUP_DELIVERED,
    SETUP_UNDELIVERED,
    SETUP_WITHHELD,
];
