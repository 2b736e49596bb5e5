//! Reports and descriptors passed from a forked child to the harness over a
//! datagram socket pair: `[tag, errno]` (tag 0: success) with, optionally,
//! one descriptor (SCM_RIGHTS). The sending half is async-signal-safe.

use std::io;
use std::mem::MaybeUninit;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// Passes `fd` over `report` (SCM_RIGHTS) with the success tag, from a
/// forked child: stack buffers and one `sendmsg`, nothing else.
pub fn send_fd(report: RawFd, fd: RawFd) -> bool {
    #[repr(C, align(8))]
    struct Control([u8; 64]);
    let mut control = Control([0; 64]);
    let mut payload = [0u8; 5];
    let mut iov = libc::iovec {
        iov_base: payload.as_mut_ptr().cast(),
        iov_len: payload.len(),
    };
    // SAFETY: a zeroed msghdr is valid; every pointer set below points at
    // stack buffers that outlive the sendmsg call. No allocation.
    unsafe {
        let mut message: libc::msghdr = MaybeUninit::zeroed().assume_init();
        message.msg_iov = &mut iov;
        message.msg_iovlen = 1;
        message.msg_control = control.0.as_mut_ptr().cast();
        let fd_len = std::mem::size_of::<RawFd>() as u32;
        message.msg_controllen = libc::CMSG_SPACE(fd_len) as usize;
        let header = libc::CMSG_FIRSTHDR(&message);
        if header.is_null() {
            return false;
        }
        (*header).cmsg_level = libc::SOL_SOCKET;
        (*header).cmsg_type = libc::SCM_RIGHTS;
        (*header).cmsg_len = libc::CMSG_LEN(fd_len) as usize;
        std::ptr::copy_nonoverlapping(
            (&fd as *const RawFd).cast::<u8>(),
            libc::CMSG_DATA(header),
            std::mem::size_of::<RawFd>(),
        );
        libc::sendmsg(report, &message, 0) >= 0
    }
}

/// A report read from the harness's end.
pub enum Report {
    /// The set-up went through; the descriptor, when one was passed.
    Done(Option<OwnedFd>),
    /// Step and errno of the failure.
    Failed(u8, i32),
    /// Nothing was sent.
    Nothing,
}

/// Reads one report without waiting.
pub fn receive(socket: &OwnedFd) -> Report {
    #[repr(C, align(8))]
    struct Control([u8; 64]);
    let mut control = Control([0; 64]);
    let mut payload = [0u8; 5];
    let mut iov = libc::iovec {
        iov_base: payload.as_mut_ptr().cast(),
        iov_len: payload.len(),
    };
    // SAFETY: recvmsg into stack buffers that outlive the call; a received
    // descriptor is owned by us from here on (wrapped in OwnedFd at once).
    unsafe {
        let mut message: libc::msghdr = MaybeUninit::zeroed().assume_init();
        message.msg_iov = &mut iov;
        message.msg_iovlen = 1;
        message.msg_control = control.0.as_mut_ptr().cast();
        message.msg_controllen = control.0.len();
        let received = libc::recvmsg(
            socket.as_raw_fd(),
            &mut message,
            libc::MSG_DONTWAIT | libc::MSG_CMSG_CLOEXEC,
        );
        if received < 1 {
            return Report::Nothing;
        }
        let mut passed = None;
        let header = libc::CMSG_FIRSTHDR(&message);
        if !header.is_null()
            && (*header).cmsg_level == libc::SOL_SOCKET
            && (*header).cmsg_type == libc::SCM_RIGHTS
        {
            let mut fd: RawFd = -1;
            std::ptr::copy_nonoverlapping(
                libc::CMSG_DATA(header),
                (&mut fd as *mut RawFd).cast::<u8>(),
                std::mem::size_of::<RawFd>(),
            );
            if fd >= 0 {
                passed = Some(OwnedFd::from_raw_fd(fd));
            }
        }
        let errno = i32::from_le_bytes([payload[1], payload[2], payload[3], payload[4]]);
        match payload[0] {
            0 => Report::Done(passed),
            step => Report::Failed(step, errno),
        }
    }
}

/// A `SOCK_DGRAM` pair, close-on-exec: (harness end, child end).
pub fn report_pair() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [-1; 2];
    // SAFETY: socketpair fills `fds` with two new descriptors we then own.
    let made = unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_DGRAM | libc::SOCK_CLOEXEC,
            0,
            fds.as_mut_ptr(),
        )
    };
    if made != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: both descriptors were just created and are owned by nobody else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}
