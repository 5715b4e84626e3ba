-- The run's settings as one row, resolved: the analysis date (var as_of_date, or the
-- last transaction day in the data), the end of the calibration period the purchase
-- models are compared on (var clv_holdout_months before it), and the models, horizons
-- and rates of CLV and CRV. Every
-- model reads settings from here (or its siblings int_segment_settings and
-- int_social_settings), never from vars, so unit tests pass settings as rows.
with

transactions as (
    select * from {{ ref('stg_raw__transactions') }}
),

resolved as (
    -- An aggregate, so exactly one row whether or not the date comes from the var.
    select
        coalesce(
            cast(nullif('{{ var("as_of_date") }}', '') as date),
            cast(max(transacted_at) as date)
        ) as as_of_date
    from transactions
),

final as (
    select
        as_of_date,
        cast(as_of_date + interval 1 day as timestamp) as as_of_cutoff_at,
        '{{ var("reporting_currency") | upper }}' as reporting_currency,
        cast({{ var('clv_horizon_months') }} as integer) as clv_horizon_months,
        cast({{ var('annual_discount_rate') }} as double) as annual_discount_rate,
        cast({{ var('clv_min_customers') }} as integer) as clv_min_customers,
        '{{ var("clv_purchase_model") | lower | trim }}' as clv_purchase_model,
        cast({{ var('clv_holdout_months') }} as integer) as clv_holdout_months,
        cast({{ var('clv_selection_noise_z') }} as double) as clv_selection_noise_z,
        cast({{ var('clv_interval_level') }} as double) as clv_interval_level,
        cast(
            as_of_date - {{ months_interval("cast(" ~ var('clv_holdout_months') ~ " as integer)") }} as date
        ) as calibration_ends_on,
        cast({{ var('crv_horizon_months') }} as integer) as crv_horizon_months,
        cast({{ var('would_have_joined_anyway_prior') }} as double) as would_have_joined_anyway_prior,
        cast({{ var('would_have_joined_anyway_prior_weight') }} as double) as would_have_joined_anyway_prior_weight,
        cast({{ var('referral_decay') }} as double) as referral_decay,
        cast({{ var('referral_max_depth') }} as integer) as referral_max_depth,
        cast({{ var('referral_evidence_z') }} as double) as referral_evidence_z,
        cast({{ var('default_margin_rate') }} as double) as default_margin_rate,
        cast({{ var('customers_per_pass') }} as bigint) as customers_per_pass
    from resolved
)

select * from final
