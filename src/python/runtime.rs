//! pyo3-async-runtimes on the crate's fork-safe runtime (`crate::runtime`): its own tokio
//! module keeps a process-global runtime that hangs in a forked child.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use pyo3::prelude::*;
use pyo3_async_runtimes::TaskLocals;
use pyo3_async_runtimes::generic::{ContextExt, JoinError, Runtime};

use crate::runtime::runtime;

tokio::task_local! {
    static TASK_LOCALS: std::cell::OnceCell<TaskLocals>;
}

pub struct ForkSafeTokio;

pub struct TaskFailed(Option<tokio::task::JoinError>);

impl JoinError for TaskFailed {
    fn is_panic(&self) -> bool {
        self.0.as_ref().is_some_and(tokio::task::JoinError::is_panic)
    }

    fn into_panic(self) -> Box<dyn std::any::Any + Send + 'static> {
        match self.0 {
            Some(e) if e.is_panic() => e.into_panic(),
            _ => Box::new("posbridge task failed"),
        }
    }
}

/// A spawned task, or the record that the runtime could not be started.
pub enum Task {
    Spawned(tokio::task::JoinHandle<()>),
    NotStarted,
}

impl Future for Task {
    type Output = Result<(), TaskFailed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.get_mut() {
            Task::Spawned(handle) => Pin::new(handle).poll(cx).map(|r| r.map_err(|e| TaskFailed(Some(e)))),
            Task::NotStarted => Poll::Ready(Err(TaskFailed(None))),
        }
    }
}

impl Runtime for ForkSafeTokio {
    type JoinError = TaskFailed;
    type JoinHandle = Task;

    fn spawn<F>(fut: F) -> Task
    where
        F: Future<Output = ()> + Send + 'static,
    {
        match runtime() {
            Ok(rt) => Task::Spawned(rt.spawn(fut)),
            Err(_) => Task::NotStarted,
        }
    }

    fn spawn_blocking<F>(f: F) -> Task
    where
        F: FnOnce() + Send + 'static,
    {
        match runtime() {
            Ok(rt) => Task::Spawned(rt.spawn_blocking(f)),
            Err(_) => Task::NotStarted,
        }
    }
}

impl ContextExt for ForkSafeTokio {
    fn scope<F, R>(locals: TaskLocals, fut: F) -> Pin<Box<dyn Future<Output = R> + Send>>
    where
        F: Future<Output = R> + Send + 'static,
    {
        let cell = std::cell::OnceCell::new();
        let _ = cell.set(locals);
        Box::pin(TASK_LOCALS.scope(cell, fut))
    }

    fn get_task_locals() -> Option<TaskLocals> {
        TASK_LOCALS.try_with(|c| c.get().cloned()).unwrap_or_default()
    }
}

/// Runs a future to completion with the GIL released, on the shared runtime's workers (for
/// work that must outlive the call, such as starting the sandbox's server).
pub fn block_on<F, T>(py: Python<'_>, fut: F) -> crate::Result<T>
where
    F: Future<Output = crate::Result<T>> + Send + 'static,
    T: Send + 'static,
{
    let rt = runtime()?;
    py.detach(|| match rt.block_on(rt.spawn(fut)) {
        Ok(result) => result,
        // The panic is carried to the caller, as it was when the future ran on its thread.
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(_) => Err(crate::Error::Transport("the posbridge runtime cancelled the call".into())),
    })
}

/// Runs a sync API call with the GIL released, driven by the calling thread itself (see
/// `crate::runtime`): no other thread takes part in a request unless another call is
/// driving the runtime at that moment.
pub fn call_here<F, T>(py: Python<'_>, fut: F) -> crate::Result<T>
where
    F: Future<Output = crate::Result<T>> + Send,
    T: Send,
{
    py.detach(|| crate::runtime::block_on_here(fut)?)
}

/// Wraps a future as a Python awaitable on the running asyncio loop (the async API).
pub fn awaitable<'py, F, T>(py: Python<'py>, fut: F) -> PyResult<Bound<'py, PyAny>>
where
    F: Future<Output = crate::Result<T>> + Send + 'static,
    T: for<'a> IntoPyObject<'a> + Send + 'static,
{
    pyo3_async_runtimes::generic::future_into_py::<ForkSafeTokio, _, _>(py, async move { fut.await.map_err(PyErr::from) })
}
