-- The thresholds of the segments and named groups as one row (vars documented in
-- dbt_project.yml and docs/settings.md).
with

final as (
    select
        cast({{ var('high_clv_percentile') }} as double) as high_clv_percentile,
        cast({{ var('high_crv_percentile') }} as double) as high_crv_percentile,
        cast({{ var('high_social_score') }} as double) as high_social_score,
        cast({{ var('high_social_percentile') }} as double) as high_social_percentile,
        cast({{ var('email_advocate_min_forwards') }} as integer) as email_advocate_min_forwards,
        cast({{ var('email_advocate_percentile') }} as double) as email_advocate_percentile,
        cast({{ var('active_min_probability_alive') }} as double) as active_min_probability_alive,
        cast({{ var('at_risk_max_probability_alive') }} as double) as at_risk_max_probability_alive,
        cast({{ var('win_back_value_percentile') }} as double) as win_back_value_percentile,
        cast({{ var('lapsing_window_days') }} as integer) as lapsing_window_days,
        cast({{ var('light_buyer_window_months') }} as integer) as light_buyer_window_months,
        cast({{ var('light_buyer_spend_percentile') }} as double) as light_buyer_spend_percentile,
        cast({{ var('loyal_share_of_wallet') }} as double) as loyal_share_of_wallet,
        cast({{ var('share_prompt_window_days') }} as integer) as share_prompt_window_days
)

select * from final
