//! Detects what kind of user-data a payload is and splits multipart MIME into parts.
//! (being written)
