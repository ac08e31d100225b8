//! Provider commands: register (or update) a simulated provider's configuration; and
//! [`resolve_provider`], how cluster and droplet commands find the provider they name.

use super::error::Fields;
use super::service::{stream_write, Command, CommandService, Decision};
use super::CommandError;
use crate::domain::catalog;
use crate::domain::{
    Decide, Latency, ProviderCommand, ProviderConfig, ProviderId, ProviderName, ProviderOffer,
    ProviderSpec, Region, Size, ValidationError,
};
use crate::store::{now, ReplyKind};
use crate::views::ProviderView;

/// Capacity per region when none is given.
pub const DEFAULT_CAPACITY: u32 = 50;

/// Raw input of [`RegisterProvider::parse`]; omitted fields take defaults (not the
/// previous configuration's values: a registration always states a whole configuration).
#[derive(Debug, Clone, Default)]
pub struct ProviderInput {
    pub name: String,
    /// Default: the name.
    pub display_name: Option<String>,
    pub regions: Vec<String>,
    /// Default: every catalog size.
    pub sizes: Option<Vec<String>>,
    /// Default: 1.0.
    pub price_multiplier: Option<f64>,
    /// Default: [`DEFAULT_CAPACITY`].
    pub capacity_per_region: Option<u32>,
    /// Default: [`Latency::default`] (4 s, 3 s, 1 s, 2 s).
    pub latency: Option<Latency>,
}

/// Register a provider, or replace its configuration.
#[derive(Debug, Clone)]
pub struct RegisterProvider {
    pub spec: ProviderSpec,
}

impl RegisterProvider {
    /// Validates raw input (every field's error is reported).
    pub fn parse(input: ProviderInput) -> Result<Self, CommandError> {
        let mut fields = Fields::default();
        let name = fields.check(ProviderId::parse(&input.name));
        let regions: Vec<Region> = input
            .regions
            .iter()
            .filter_map(|r| fields.check(Region::parse(r).map_err(|e| in_field(e, "regions"))))
            .collect();
        let sizes: Vec<Size> = match &input.sizes {
            Some(sizes) => sizes
                .iter()
                .filter_map(|s| fields.check(Size::parse(s).map_err(|e| in_field(e, "sizes"))))
                .collect(),
            None => catalog::sizes()
                .iter()
                .filter_map(|s| Size::parse(s.slug).ok())
                .collect(),
        };
        let Some(name) = name else {
            fields.finish()?;
            return Err(CommandError::Invalid(Vec::new()));
        };
        let spec = ProviderSpec {
            display_name: input.display_name.unwrap_or_else(|| name.to_string()),
            name,
            regions,
            sizes,
            price_multiplier: input.price_multiplier.unwrap_or(1.0),
            capacity_per_region: input.capacity_per_region.unwrap_or(DEFAULT_CAPACITY),
            latency: input.latency.unwrap_or_default(),
        };
        for error in spec.validate() {
            // An empty list that only lost invalid entries is already reported.
            let reported = fields_has(&fields, error.field);
            if !reported {
                fields.fail(error.field, error.message);
            }
        }
        fields.finish()?;
        Ok(Self { spec })
    }
}

fn in_field(
    mut error: crate::domain::ValidationError,
    field: &'static str,
) -> crate::domain::ValidationError {
    error.field = field;
    error
}

fn fields_has(fields: &Fields, field: &str) -> bool {
    fields.names().any(|f| f == field)
}

impl Command for RegisterProvider {
    type Output = ProviderView;

    async fn decide(
        &self,
        service: &CommandService,
    ) -> Result<Decision<ProviderView>, CommandError> {
        let id = self.spec.name.as_str();
        let mut provider = service.load::<ProviderConfig>(id).await?;
        let expected = provider.version;
        let events = provider.state.decide(ProviderCommand::RegisterProvider {
            spec: self.spec.clone(),
        })?;
        let kind = if expected == 0 {
            ReplyKind::Created
        } else {
            ReplyKind::Done
        };
        let at = now();
        provider.apply_new(&events, at);
        Ok(Decision {
            writes: vec![stream_write::<ProviderConfig>(id, expected, &events, at)?],
            value: ProviderView::from_loaded(&provider),
            kind,
            unchanged_position: provider.last_position,
        })
    }
}

/// The provider `name` as cluster and droplet commands check it, before `decide`: its
/// registered configuration (the fold of its `provider` stream), else the built-in
/// default of that name. Any other name is a validation error of `field`.
pub async fn resolve_provider(
    service: &CommandService,
    name: &ProviderName,
    field: &'static str,
) -> Result<ProviderOffer, CommandError> {
    let config = service.load::<ProviderConfig>(name.as_str()).await?;
    if let Some(spec) = &config.state.spec {
        return Ok(ProviderOffer::from(spec));
    }
    ProviderOffer::builtin(name.as_str()).ok_or_else(|| {
        let builtin: Vec<&str> = catalog::providers().iter().map(|p| p.name).collect();
        ValidationError::new(
            field,
            format!(
                "unknown provider {:?}: neither registered (POST /v1/providers) nor built in \
                 ({})",
                name.as_str(),
                builtin.join(", ")
            ),
        )
        .into()
    })
}
