//! Reporting export jobs: enqueued, moved on by status polls, then
//! downloaded.
//!
//! A job is `pending` when enqueued. Its status polls answer `pending`
//! (the first), then `in_progress`, for
//! [`FakeConfig::report_job_polls`](crate::FakeConfig::report_job_polls)
//! polls; the next one answers `complete` (its rows are taken from the
//! workspace then, and stay as they were) or `failed`. Jobs move on only
//! when polled, never by themselves. At most
//! [`REPORT_PENDING_JOBS_LIMIT`] jobs may be `pending` or `in_progress` at
//! once.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use flate2::write::GzEncoder;
use flate2::Compression;

use crate::config::FakeConfig;
use crate::reporting::{ReportRequest, REPORT_PENDING_JOBS_LIMIT};
use crate::rng::{mix64, Rng};
use crate::server::stats::FakeStats;
use crate::workspace::Workspace;

/// How long a completed job's download is said to be kept (Intercom keeps
/// export files two days); the fake does not enforce it.
const DOWNLOAD_KEPT_SECS: i64 = 2 * 86_400;

/// A job's status, as the API names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum JobStatus {
    Pending,
    InProgress,
    Complete,
    Failed,
}

impl JobStatus {
    pub(crate) fn name(self) -> &'static str {
        match self {
            JobStatus::Pending => "pending",
            JobStatus::InProgress => "in_progress",
            JobStatus::Complete => "complete",
            JobStatus::Failed => "failed",
        }
    }

    fn is_open(self) -> bool {
        matches!(self, JobStatus::Pending | JobStatus::InProgress)
    }
}

/// One export job.
struct Job {
    id: String,
    request: ReportRequest,
    /// The `Intercom-Version` it was enqueued with.
    version: Option<String>,
    polls: u32,
    /// Whether it ends `failed`.
    fails: bool,
    status: JobStatus,
    /// The file a complete job downloads (gzip-compressed or plain CSV).
    file: Option<Vec<u8>>,
    /// When it completed, on the fake's clock.
    completed_at: Option<i64>,
}

/// What a status answer says about a job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct JobView {
    pub(crate) id: String,
    pub(crate) status: JobStatus,
    /// When its download stops being offered (complete jobs).
    pub(crate) download_expires_at: Option<i64>,
}

/// Why an enqueue was refused.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum EnqueueRefused {
    /// [`REPORT_PENDING_JOBS_LIMIT`] jobs are pending already.
    TooManyPending,
    /// `start_time` is older than the workspace keeps reporting data (its
    /// retention, in days).
    BeforeRetention(i64),
}

/// Why a download was refused.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum DownloadRefused {
    NotFound,
    /// The job is not complete (its status).
    NotComplete(JobStatus),
}

/// Every job of the workspace, and the counters `FakeStats` shows.
pub(crate) struct ReportJobs {
    jobs: Mutex<Vec<Job>>,
    seed: u64,
    polls_to_complete: u32,
    failure_rate: f64,
    gzip: bool,
    /// [`FakeConfig::report_retention_days`], in seconds.
    retention_secs: i64,
    /// Jobs still to fail, set by the test handle.
    fail_next: AtomicU64,
    /// Jobs enqueued so far (numbers the job ids).
    serial: AtomicU64,
    polls: AtomicU64,
    downloads: AtomicU64,
    pending_limit_rejections: AtomicU64,
}

impl ReportJobs {
    pub(crate) fn new(config: &FakeConfig) -> ReportJobs {
        ReportJobs {
            jobs: Mutex::new(Vec::new()),
            seed: mix64(config.seed ^ 0x4E90_4770_B5E5),
            polls_to_complete: config.report_job_polls,
            failure_rate: config.report_job_failure_rate,
            gzip: config.report_download_gzip,
            retention_secs: i64::from(config.report_retention_days) * 86_400,
            fail_next: AtomicU64::new(0),
            serial: AtomicU64::new(0),
            polls: AtomicU64::new(0),
            downloads: AtomicU64::new(0),
            pending_limit_rejections: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Job>> {
        self.jobs.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Add the jobs' counters to `stats`.
    pub(crate) fn fill_stats(&self, stats: &mut FakeStats) {
        stats.report_jobs_enqueued = self.serial.load(Ordering::SeqCst);
        stats.report_job_polls = self.polls.load(Ordering::SeqCst);
        stats.report_downloads = self.downloads.load(Ordering::SeqCst);
        stats.report_pending_limit_429s = self.pending_limit_rejections.load(Ordering::SeqCst);
    }

    /// Make the next `n` jobs enqueued end `failed`.
    pub(crate) fn fail_next(&self, n: u64) {
        self.fail_next.store(n, Ordering::SeqCst);
    }

    /// The id of job number `n` (1-based): 16 characters of `[a-z0-9]`.
    fn job_id(&self, n: u64) -> String {
        Rng::new(mix64(self.seed ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15))).alnum(16)
    }

    /// Enqueue a job at `now` (the fake's clock; `peek`: answer as if,
    /// changing nothing).
    pub(crate) fn enqueue(
        &self,
        request: ReportRequest,
        version: Option<String>,
        now: i64,
        peek: bool,
    ) -> Result<JobView, EnqueueRefused> {
        if request.start_time < now.saturating_sub(self.retention_secs) {
            return Err(EnqueueRefused::BeforeRetention(
                self.retention_secs / 86_400,
            ));
        }
        let mut jobs = self.lock();
        let open = jobs.iter().filter(|j| j.status.is_open()).count();
        if open >= REPORT_PENDING_JOBS_LIMIT {
            if !peek {
                self.pending_limit_rejections.fetch_add(1, Ordering::SeqCst);
            }
            return Err(EnqueueRefused::TooManyPending);
        }
        let n = self.serial.load(Ordering::SeqCst) + 1;
        let view = JobView {
            id: self.job_id(n),
            status: JobStatus::Pending,
            download_expires_at: None,
        };
        if peek {
            return Ok(view);
        }
        self.serial.store(n, Ordering::SeqCst);
        let chosen = self
            .fail_next
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |k| k.checked_sub(1))
            .is_ok();
        let drawn = self.failure_rate > 0.0
            && Rng::new(mix64(self.seed ^ 0xFA11 ^ n)).unit() < self.failure_rate;
        jobs.push(Job {
            id: view.id.clone(),
            request,
            version,
            polls: 0,
            fails: chosen || drawn,
            status: JobStatus::Pending,
            file: None,
            completed_at: None,
        });
        Ok(view)
    }

    /// A status poll of job `id` at `now` (the fake's clock), which moves
    /// it on (`peek`: answer as if, changing nothing); `None`: no such job.
    pub(crate) fn poll(&self, id: &str, ws: &Workspace, now: i64, peek: bool) -> Option<JobView> {
        let mut jobs = self.lock();
        let job = jobs.iter_mut().find(|j| j.id == id)?;
        let polls = job.polls.saturating_add(1);
        let status = if !job.status.is_open() {
            job.status
        } else if polls > self.polls_to_complete {
            if job.fails {
                JobStatus::Failed
            } else {
                JobStatus::Complete
            }
        } else if polls == 1 {
            JobStatus::Pending
        } else {
            JobStatus::InProgress
        };
        let completing = job.status.is_open() && status == JobStatus::Complete;
        let completed_at = if completing {
            Some(now)
        } else {
            job.completed_at
        };
        if !peek {
            self.polls.fetch_add(1, Ordering::SeqCst);
            job.polls = polls;
            job.status = status;
            if completing {
                let csv = job.request.table(ws, job.version.as_deref()).to_csv();
                job.file = Some(self.file_of(csv));
                job.completed_at = completed_at;
            }
        }
        Some(JobView {
            id: job.id.clone(),
            status,
            download_expires_at: completed_at.map(|t| t.saturating_add(DOWNLOAD_KEPT_SECS)),
        })
    }

    /// The file of a complete job, and whether it is gzip-compressed
    /// (`peek`: not counted as a download).
    pub(crate) fn download(
        &self,
        id: &str,
        peek: bool,
    ) -> Result<(Vec<u8>, bool), DownloadRefused> {
        let jobs = self.lock();
        let job = jobs
            .iter()
            .find(|j| j.id == id)
            .ok_or(DownloadRefused::NotFound)?;
        match &job.file {
            Some(file) if job.status == JobStatus::Complete => {
                if !peek {
                    self.downloads.fetch_add(1, Ordering::SeqCst);
                }
                Ok((file.clone(), self.gzip))
            }
            _ => Err(DownloadRefused::NotComplete(job.status)),
        }
    }

    fn file_of(&self, csv: String) -> Vec<u8> {
        if !self.gzip {
            return csv.into_bytes();
        }
        let mut gz = GzEncoder::new(Vec::new(), Compression::default());
        // Writing to a Vec cannot fail.
        let _ = gz.write_all(csv.as_bytes());
        gz.finish().unwrap_or_default()
    }
}
