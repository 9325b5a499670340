//! The live systemd: systemd1's Manager and hostname1 over one system-bus connection for the
//! whole run, every job waited for through its `JobRemoved` signal within a bounded time.

use std::future::{poll_fn, Future};
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

// zbus 6 names no stream trait of its own; this is the one its signal streams implement and its
// generated proxies use, so it moves with zbus.
use zbus::export::futures_core::Stream;
use zbus::proxy::CacheProperties;
use zbus::{connection, Connection, DBusError, OwnedObjectPath, OwnedVariant, Proxy, Variant};

use super::{JobResult, Systemd, SystemdError, TransientService};
use crate::unit::UnitCommand;

const SYSTEMD1: &str = "org.freedesktop.systemd1";
const MANAGER_PATH: &str = "/org/freedesktop/systemd1";
const MANAGER: &str = "org.freedesktop.systemd1.Manager";
const UNIT: &str = "org.freedesktop.systemd1.Unit";
const HOSTNAME1: &str = "org.freedesktop.hostname1";
const HOSTNAME1_PATH: &str = "/org/freedesktop/hostname1";

/// systemd over D-Bus. Cheap to call repeatedly: the connection, its authentication and the
/// `Subscribe()` are made once, not per call as the reference does.
pub struct DbusSystemd {
    connection: Connection,
    job_timeout: Duration,
    /// systemd only emits job signals to subscribed clients; one subscription lasts as long as
    /// the connection.
    subscribed: AtomicBool,
}

impl std::fmt::Debug for DbusSystemd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DbusSystemd")
            .field("job_timeout", &self.job_timeout)
            .finish_non_exhaustive()
    }
}

impl DbusSystemd {
    /// Connects to the system bus (`DBUS_SYSTEM_BUS_ADDRESS`, else the well-known socket).
    /// Every job and every method call is bounded by `job_timeout`.
    pub fn connect(job_timeout: Duration) -> Result<DbusSystemd, SystemdError> {
        Self::build(connection::Builder::system(), job_timeout)
    }

    /// Connects to the bus at a D-Bus address such as `unix:path=/run/dbus/system_bus_socket`.
    pub fn connect_to(address: &str, job_timeout: Duration) -> Result<DbusSystemd, SystemdError> {
        Self::build(connection::Builder::address(address), job_timeout)
    }

    fn build(
        builder: connection::Builder<'_>,
        job_timeout: Duration,
    ) -> Result<DbusSystemd, SystemdError> {
        // A method call that systemd never answers (it hangs in a reload, say) must not hang the
        // boot either.
        let connection = zbus::block_on(builder.method_timeout(job_timeout).build())
            .map_err(|e| SystemdError::Connect(e.to_string()))?;
        Ok(DbusSystemd {
            connection,
            job_timeout,
            subscribed: AtomicBool::new(false),
        })
    }

    async fn proxy<'p>(
        &self,
        destination: &'static str,
        path: &'p str,
        interface: &'static str,
    ) -> zbus::Result<Proxy<'p>> {
        // Uncached: every property read must see systemd's current value, and a cache would
        // cost a GetAll and a PropertiesChanged subscription per proxy.
        zbus::proxy::Builder::<Proxy<'p>>::new(&self.connection)
            .destination(destination)
            .path(path)
            .interface(interface)
            .cache_properties(CacheProperties::No)
            .build()
            .await
    }

    async fn manager(&self) -> zbus::Result<Proxy<'static>> {
        self.proxy(SYSTEMD1, MANAGER_PATH, MANAGER).await
    }

    /// A Manager call that returns nothing and starts no job.
    fn call_manager<B>(&self, method: &'static str, body: &B) -> Result<(), SystemdError>
    where
        B: serde::Serialize + zbus::DynamicType,
    {
        zbus::block_on(async {
            let manager = self.manager().await?;
            manager.call_method(method, body).await.map(drop)
        })
        .map_err(|e| self.call_error(method, e))
    }

    async fn subscribe(&self, manager: &Proxy<'_>) -> Result<(), SystemdError> {
        if self.subscribed.load(Ordering::Acquire) {
            return Ok(());
        }
        match manager.call_method("Subscribe", &()).await {
            Ok(_) => {}
            Err(e)
                if dbus_error(&e).is_some_and(|(name, _)| name.ends_with(".AlreadySubscribed")) => {
            }
            Err(e) => return Err(self.call_error("Subscribe", e)),
        }
        self.subscribed.store(true, Ordering::Release);
        Ok(())
    }

    /// Calls a Manager method that queues a job, and waits for that job's `JobRemoved`.
    ///
    /// The signal stream exists before the call is sent, so a job that systemd finishes before
    /// its reply reaches us is still seen. The whole exchange, call included, is bounded by one
    /// deadline.
    fn run_job<B>(
        &self,
        method: &'static str,
        body: &B,
        what: String,
    ) -> Result<JobResult, SystemdError>
    where
        B: serde::Serialize + zbus::DynamicType,
    {
        let mut deadline = Deadline::start(self.job_timeout)
            .map_err(|e| SystemdError::Io(format!("cannot start the timer for {what}: {e}")))?;
        let exchange = async {
            let manager = self
                .manager()
                .await
                .map_err(|e| self.call_error(method, e))?;
            self.subscribe(&manager).await?;
            let removed = manager
                .receive_signal("JobRemoved")
                .await
                .map_err(|e| self.call_error("AddMatch(JobRemoved)", e))?;
            let mut removed = pin!(removed);
            let job: OwnedObjectPath = manager
                .call(method, body)
                .await
                .map_err(|e| self.call_error(method, e))?;
            log::debug!("{what}: queued job {}", job.as_str());
            loop {
                let Some(signal) = poll_fn(|cx| removed.as_mut().poll_next(cx)).await else {
                    return Err(SystemdError::Call {
                        method: method.to_string(),
                        message: format!(
                            "the bus connection closed before job {} ended",
                            job.as_str()
                        ),
                    });
                };
                // A signal from another job, or one we cannot decode, is none of our business.
                let body = signal.body();
                let Ok((_id, path, _unit, result)) =
                    body.deserialize::<(u32, OwnedObjectPath, String, String)>()
                else {
                    continue;
                };
                if path == job {
                    return Ok(JobResult::from_signal(&result));
                }
            }
        };
        match zbus::block_on(within(exchange, &mut deadline)) {
            Some(outcome) => outcome,
            None => Err(SystemdError::Timeout {
                what,
                timeout: self.job_timeout,
            }),
        }
    }

    fn call_error(&self, method: &str, error: zbus::Error) -> SystemdError {
        if let zbus::Error::InputOutput(io) = &error {
            if io.kind() == std::io::ErrorKind::TimedOut {
                return SystemdError::Timeout {
                    what: method.to_string(),
                    timeout: self.job_timeout,
                };
            }
        }
        let message = match dbus_error(&error) {
            Some((name, message)) if message.is_empty() => name,
            Some((name, message)) => format!("{name}: {message}"),
            None => error.to_string(),
        };
        SystemdError::Call {
            method: method.to_string(),
            message,
        }
    }

    async fn hostname1(&self) -> zbus::Result<Proxy<'static>> {
        self.proxy(HOSTNAME1, HOSTNAME1_PATH, HOSTNAME1).await
    }
}

impl Systemd for DbusSystemd {
    fn is_live(&self) -> bool {
        true
    }

    fn reload(&self) -> Result<(), SystemdError> {
        self.call_manager("Reload", &())
    }

    fn enable(&self, units: &[String], runtime: bool) -> Result<(), SystemdError> {
        if units.is_empty() {
            return Ok(());
        }
        carriable("EnableUnitFiles", units.iter().map(String::as_str))?;
        // force=true: a symlink left by an older config for the same name is replaced, as the
        // reference does. The reply (carries_install_info, changes) is only informative.
        self.call_manager("EnableUnitFiles", &(units, runtime, true))
    }

    fn unit_file_state(&self, unit: &str) -> Result<Option<String>, SystemdError> {
        carriable("GetUnitFileState", [unit])?;
        let reply = zbus::block_on(async {
            let manager = self.manager().await?;
            manager
                .call::<_, _, String>("GetUnitFileState", &(unit,))
                .await
        });
        match reply {
            Ok(state) => Ok(Some(state)),
            Err(e) if is_unknown_unit(&e) => Ok(None),
            Err(e) => Err(self.call_error("GetUnitFileState", e)),
        }
    }

    fn active_state(&self, unit: &str) -> Result<Option<String>, SystemdError> {
        carriable("GetUnit", [unit])?;
        let path = zbus::block_on(async {
            let manager = self.manager().await?;
            manager
                .call::<_, _, OwnedObjectPath>("GetUnit", &(unit,))
                .await
        });
        let path = match path {
            Ok(path) => path,
            Err(e) if is_unknown_unit(&e) => return Ok(None),
            Err(e) => return Err(self.call_error("GetUnit", e)),
        };
        let state = zbus::block_on(async {
            let unit = self.proxy(SYSTEMD1, path.as_str(), UNIT).await?;
            unit.get_property::<String>("ActiveState").await
        });
        match state {
            Ok(state) => Ok(Some(state)),
            // The unit was unloaded between the two calls (garbage-collected).
            Err(e) if is_unknown_unit(&e) => Ok(None),
            Err(e) => Err(self.call_error("Get(ActiveState)", e)),
        }
    }

    fn run(&self, unit: &str, command: UnitCommand) -> Result<JobResult, SystemdError> {
        carriable(command.method(), [unit])?;
        let what = format!("the {} job of {unit}", command.as_str());
        self.run_job(command.method(), &(unit, "replace"), what)
    }

    fn run_transient(&self, service: &TransientService) -> Result<JobResult, SystemdError> {
        let method = "StartTransientUnit";
        carriable(
            method,
            [service.name.as_str(), service.description.as_str()]
                .into_iter()
                .chain(service.argv.iter().map(String::as_str)),
        )?;
        let Some(program) = service.argv.first() else {
            return Err(SystemdError::Call {
                method: method.to_string(),
                message: format!("{}: no program to run", service.name),
            });
        };
        // Type=oneshot: the start job ends when the program has exited, so its result says
        // whether the program succeeded, which the reference (Type=simple) never learnt.
        let exec_start = vec![(program.as_str(), service.argv.clone(), false)];
        let properties = [
            ("Description", Variant::from(service.description.as_str())),
            ("Type", Variant::from("oneshot")),
            ("ExecStart", Variant::from(exec_start)),
            ("RemainAfterExit", Variant::from(false)),
        ];
        let mut owned: Vec<(&str, OwnedVariant)> = Vec::with_capacity(properties.len());
        for (name, value) in properties {
            let value = OwnedVariant::try_from(value).map_err(|e| SystemdError::Call {
                method: method.to_string(),
                message: format!("property {name}: {e}"),
            })?;
            owned.push((name, value));
        }
        let aux: Vec<(&str, Vec<(&str, OwnedVariant)>)> = Vec::new();
        let what = format!("the start job of {}", service.name);
        self.run_job(
            method,
            &(service.name.as_str(), "replace", owned, aux),
            what,
        )
    }

    fn set_hostname(&self, name: &str) -> Result<bool, SystemdError> {
        carriable("SetStaticHostname", [name])?;
        // interactive=false: nobody is there to answer a polkit prompt at boot.
        for method in ["SetStaticHostname", "SetHostname"] {
            let reply = zbus::block_on(async {
                let hostname1 = self.hostname1().await?;
                hostname1
                    .call_method(method, &(name, false))
                    .await
                    .map(drop)
            });
            match reply {
                Ok(()) => {}
                Err(e) if is_absent_service(&e) => {
                    log::debug!("hostname1 is not available: {e}");
                    return Ok(false);
                }
                Err(e) => return Err(self.call_error(method, e)),
            }
        }
        Ok(true)
    }

    fn static_hostname(&self) -> Result<Option<String>, SystemdError> {
        let reply = zbus::block_on(async {
            let hostname1 = self.hostname1().await?;
            hostname1.get_property::<String>("StaticHostname").await
        });
        match reply {
            Ok(name) => Ok(Some(name)),
            Err(e) if is_absent_service(&e) => Ok(None),
            Err(e) => Err(self.call_error("Get(StaticHostname)", e)),
        }
    }
}

/// Refuses strings D-Bus cannot carry before they are sent: the bus daemon answers a message
/// with a NUL in a string by dropping the connection, which would fail every later call too.
fn carriable<'s>(
    method: &str,
    strings: impl IntoIterator<Item = &'s str>,
) -> Result<(), SystemdError> {
    match strings.into_iter().find(|s| s.contains('\0')) {
        Some(bad) => Err(SystemdError::Call {
            method: method.to_string(),
            message: format!("{bad:?} contains a NUL character, which D-Bus cannot carry"),
        }),
        None => Ok(()),
    }
}

/// The name and message of a D-Bus error reply, None for any other failure.
fn dbus_error(error: &zbus::Error) -> Option<(String, String)> {
    match error {
        zbus::Error::MethodError(name, message, _) => {
            Some((name.to_string(), message.clone().unwrap_or_default()))
        }
        zbus::Error::FDO(error) => Some((
            error.name().to_string(),
            error.description().unwrap_or_default().to_string(),
        )),
        zbus::Error::DBus(error) => Some((
            error.name().to_string(),
            error.description().unwrap_or_default().to_string(),
        )),
        _ => None,
    }
}

/// systemd's answers for a unit it does not know: NoSuchUnit from GetUnit, and from
/// GetUnitFileState depending on the version NoSuchUnit or ENOENT's FileNotFound.
fn is_unknown_unit(error: &zbus::Error) -> bool {
    dbus_error(error).is_some_and(|(name, _)| {
        matches!(
            name.as_str(),
            "org.freedesktop.systemd1.NoSuchUnit"
                | "org.freedesktop.DBus.Error.FileNotFound"
                | "org.freedesktop.DBus.Error.UnknownObject"
        )
    })
}

/// The service is not on the bus and could not be activated. dbus-daemon forwards systemd's
/// activation error (`org.freedesktop.systemd1.NoSuchUnit`, `…UnitMasked`, …) as it is;
/// dbus-broker says NameHasNoOwner.
fn is_absent_service(error: &zbus::Error) -> bool {
    dbus_error(error).is_some_and(|(name, _)| {
        name == "org.freedesktop.DBus.Error.ServiceUnknown"
            || name == "org.freedesktop.DBus.Error.NameHasNoOwner"
            || name.starts_with("org.freedesktop.DBus.Error.Spawn.")
            || name.starts_with("org.freedesktop.systemd1.")
    })
}

/// Runs `future` until it completes or `deadline` passes (None).
async fn within<F: Future>(future: F, deadline: &mut Deadline) -> Option<F::Output> {
    let mut future = pin!(future);
    poll_fn(|cx| {
        // The work first: an outcome that arrived together with the deadline still counts.
        if let Poll::Ready(output) = future.as_mut().poll(cx) {
            return Poll::Ready(Some(output));
        }
        Pin::new(&mut *deadline).poll(cx).map(|()| None)
    })
    .await
}

/// A future that completes once a duration has passed.
///
/// zbus 6 keeps its runtime's timer to itself, so a helper thread sleeps on a condition variable
/// and wakes the future. Dropping the future wakes the thread, which then exits at once: a job
/// that ends early leaves no thread behind.
struct Deadline {
    shared: Arc<DeadlineShared>,
}

#[derive(Default)]
struct DeadlineShared {
    state: Mutex<DeadlineState>,
    dropped: Condvar,
}

#[derive(Default)]
struct DeadlineState {
    expired: bool,
    dropped: bool,
    waker: Option<Waker>,
}

impl Deadline {
    fn start(after: Duration) -> std::io::Result<Deadline> {
        let shared = Arc::new(DeadlineShared::default());
        let timer = Arc::clone(&shared);
        std::thread::Builder::new()
            .name("systemd-job-timer".to_string())
            .spawn(move || {
                let state = timer.state.lock().unwrap_or_else(PoisonError::into_inner);
                let (mut state, _) = timer
                    .dropped
                    .wait_timeout_while(state, after, |state| !state.dropped)
                    .unwrap_or_else(PoisonError::into_inner);
                if state.dropped {
                    return;
                }
                state.expired = true;
                let waker = state.waker.take();
                drop(state);
                if let Some(waker) = waker {
                    waker.wake();
                }
            })?;
        Ok(Deadline { shared })
    }
}

impl Future for Deadline {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = self
            .shared
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if state.expired {
            return Poll::Ready(());
        }
        state.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}

impl Drop for Deadline {
    fn drop(&mut self) {
        let mut state = self
            .shared
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        state.dropped = true;
        drop(state);
        self.shared.dropped.notify_all();
    }
}
