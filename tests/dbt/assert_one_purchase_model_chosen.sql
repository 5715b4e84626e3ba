-- Exactly one purchase model is chosen for the predictions, and it is the one
-- clv_model_parameters marks as used. Returns a row when that does not hold.
with

compared as (
    select * from {{ ref('int_clv_models_compared') }}
),

parameters as (
    select * from {{ ref('clv_model_parameters') }}
),

chosen as (
    select
        count(*) as chosen_models,
        any_value(model_name) as chosen_model
    from compared
    where is_chosen
),

used as (
    select distinct model_name
    from parameters
    where is_used_for_predictions and model_name != 'gamma_gamma'
),

final as (
    select
        chosen.chosen_models,
        chosen.chosen_model,
        (select count(*) from used) as used_purchase_models
    from chosen
    where chosen.chosen_models != 1
        or (select count(*) from used) != 1
        or chosen.chosen_model not in (select used.model_name from used)
)

select * from final
