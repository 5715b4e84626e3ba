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
        unnest(compared.holdout_by_frequency) as frequency_group
    from compared
),

final as (
    select
        model_name,
        model_label,
        is_chosen,
        as_of_date,
        calibration_ends_on,
        frequency_group.calibration_frequency,
        frequency_group.is_last_group,
        frequency_group.customers,
        frequency_group.actual_mean_holdout_purchases,
        frequency_group.predicted_mean_holdout_purchases,
        {{ built_at() }} as built_at
    from groups
)

select * from final
