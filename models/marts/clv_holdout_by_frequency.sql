-- Each purchase model's mean holdout purchases per calibration frequency next to the
-- actual ones (the "calibration vs holdout purchases" check): one row per model and
-- frequency group, the last group holding that frequency or more.
with

compared as (
    select * from {{ ref('int_clv_models_compared') }}
),

groups as (
    select
        compared.model_name,
        compared.model_label,
        compared.is_chosen,
        compared.as_of_date,
        compared.calibration_ends_on,
        {{ unnest_list('compared.holdout_by_frequency') }} as frequency_group
    from compared
),

final as (
    select
        groups.model_name,
        groups.model_label,
        groups.is_chosen,
        groups.as_of_date,
        groups.calibration_ends_on,
        groups.frequency_group.calibration_frequency as calibration_frequency,  -- noqa: AL09
        groups.frequency_group.is_last_group as is_last_group,  -- noqa: AL09
        groups.frequency_group.customers as customers,  -- noqa: AL09
        groups.frequency_group.actual_mean_holdout_purchases as actual_mean_holdout_purchases,  -- noqa: AL09
        groups.frequency_group.predicted_mean_holdout_purchases as predicted_mean_holdout_purchases,  -- noqa: AL09
        {{ built_at() }} as built_at
    from groups
)

select * from final
