//! One service instance's metrics: a Prometheus recorder that is not
//! installed globally, the handles recorded through, and what to sample
//! when scraped.

use std::sync::{Arc, Mutex};

use metrics::{Counter, Gauge, Histogram, Key, KeyName, Label, Metadata, Recorder, Unit};
use metrics_exporter_prometheus::{
    Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};

type Sampler = Box<dyn Fn() + Send + Sync>;

/// Metrics of one service instance. Cloning shares them.
#[derive(Clone)]
pub struct Registry {
    inner: Arc<Inner>,
}

struct Inner {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
    samplers: Mutex<Vec<Sampler>>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry").finish_non_exhaustive()
    }
}

static METADATA: Metadata<'static> =
    Metadata::new(module_path!(), metrics::Level::INFO, Some(module_path!()));

impl Registry {
    /// A registry whose histograms use [`super::SHORT_BUCKETS`], except the
    /// names in `buckets`, which use theirs.
    pub fn new(buckets: &[(&str, &[f64])]) -> Registry {
        // Only an empty bucket list is refused; ours never are.
        let mut builder = PrometheusBuilder::new()
            .set_buckets(super::SHORT_BUCKETS)
            .unwrap_or_else(|_| PrometheusBuilder::new());
        for (name, values) in buckets.iter().filter(|(_, v)| !v.is_empty()) {
            builder = builder
                .set_buckets_for_metric(Matcher::Full((*name).to_string()), values)
                .unwrap_or_else(|_| PrometheusBuilder::new());
        }
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        Registry {
            inner: Arc::new(Inner {
                recorder,
                handle,
                samplers: Mutex::new(Vec::new()),
            }),
        }
    }

    /// The counter `name` with `labels`.
    pub fn counter(&self, name: &'static str, labels: Vec<Label>) -> Counter {
        self.inner
            .recorder
            .register_counter(&Key::from_parts(name, labels), &METADATA)
    }

    /// The gauge `name` with `labels`.
    pub fn gauge(&self, name: &'static str, labels: Vec<Label>) -> Gauge {
        self.inner
            .recorder
            .register_gauge(&Key::from_parts(name, labels), &METADATA)
    }

    /// The histogram `name` with `labels`.
    pub fn histogram(&self, name: &'static str, labels: Vec<Label>) -> Histogram {
        self.inner
            .recorder
            .register_histogram(&Key::from_parts(name, labels), &METADATA)
    }

    /// Export the counter `name` at zero for each value of `label`, and
    /// return the handles in that order.
    pub fn counters_by<const N: usize>(
        &self,
        name: &'static str,
        label: &'static str,
        values: [&'static str; N],
    ) -> [Counter; N] {
        values.map(|value| {
            let counter = self.counter(name, vec![Label::from_static_parts(label, value)]);
            counter.increment(0);
            counter
        })
    }

    /// `HELP` text of counter `name`.
    pub fn describe_counter(&self, name: &'static str, help: &'static str) {
        self.inner
            .recorder
            .describe_counter(KeyName::from_const_str(name), None, help.into());
    }

    /// `HELP` text (and unit) of gauge `name`.
    pub fn describe_gauge(&self, name: &'static str, unit: Option<Unit>, help: &'static str) {
        self.inner
            .recorder
            .describe_gauge(KeyName::from_const_str(name), unit, help.into());
    }

    /// `HELP` text of histogram `name` (in seconds).
    pub fn describe_histogram(&self, name: &'static str, help: &'static str) {
        self.inner.recorder.describe_histogram(
            KeyName::from_const_str(name),
            Some(Unit::Seconds),
            help.into(),
        );
    }

    /// Run `sample` before every render: for gauges read from elsewhere
    /// (a connection pool) at scrape time instead of on a timer.
    pub fn on_scrape(&self, sample: impl Fn() + Send + Sync + 'static) {
        if let Ok(mut samplers) = self.inner.samplers.lock() {
            samplers.push(Box::new(sample));
        }
    }

    /// The Prometheus text exposition of everything recorded.
    pub fn render(&self) -> String {
        if let Ok(samplers) = self.inner.samplers.lock() {
            for sample in samplers.iter() {
                sample();
            }
        }
        self.inner.handle.render()
    }

    /// Fold recent histogram samples into the totals (bounded memory when
    /// nobody scrapes); run every few seconds.
    pub fn upkeep(&self) {
        self.inner.handle.run_upkeep();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_labels_render_at_zero_and_count_up() {
        let registry = Registry::new(&[]);
        registry.describe_counter("things_total", "Things.");
        let [a, _b] = registry.counters_by("things_total", "kind", ["a", "b"]);
        a.increment(2);
        let text = registry.render();
        assert!(text.contains("# HELP things_total Things."), "{text}");
        assert!(text.contains("things_total{kind=\"a\"} 2"), "{text}");
        assert!(text.contains("things_total{kind=\"b\"} 0"), "{text}");
    }

    #[test]
    fn two_registries_do_not_share_series() {
        let one = Registry::new(&[]);
        let two = Registry::new(&[]);
        one.counter("only_here_total", vec![]).increment(1);
        assert!(one.render().contains("only_here_total 1"));
        assert!(!two.render().contains("only_here_total"));
    }

    #[test]
    fn histograms_use_the_given_buckets_and_samplers_run_on_render() {
        let registry = Registry::new(&[("fast_seconds", &[0.5, 1.0])]);
        registry.histogram("fast_seconds", vec![]).record(0.7);
        let gauge = registry.gauge("sampled", vec![]);
        registry.on_scrape(move || gauge.set(7.0));
        let text = registry.render();
        assert!(text.contains("fast_seconds_bucket{le=\"0.5\"} 0"), "{text}");
        assert!(text.contains("fast_seconds_bucket{le=\"1\"} 1"), "{text}");
        assert!(text.contains("sampled 7"), "{text}");
    }
}
